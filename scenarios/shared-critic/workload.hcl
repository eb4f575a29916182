# The book-critic workload, published once by a platform team: the documents,
# what each user says, the grid and the SLO. It declares no target. The
# scenario names target.critic, which each serving team declares in a file
# of its own beside this one (target.hcl here), so nobody edits this file.
#
#   mrqa exec scenarios/shared-critic/   # every .hcl file in the folder is one configuration
#
# Variables set in a *.mrqavars.hcl file beside these (team.mrqavars.hcl)
# are applied automatically, before -var-file and -var.
#
# A team that must run a tested mrqa can pin it, in any file of the folder:
#
#   mrqa {
#     required_version = ">= 0.3, < 2"
#   }

variable "team" {
  type        = string
  default     = "a serving team"
  description = "Who ran it, for the report's title."
}

variable "document_tokens" {
  type        = number
  default     = 131072
  description = "Every document is cut to exactly this many tokens."
}

corpus "novels" {
  source "synthetic" {
    documents = 16 # one per session of the largest point
    seed      = 1
  }
  tokenizer = "cl100k_base"
  tokens    = var.document_tokens
}

script "critic" {
  opening = "Read and summarize this novel.\n\n${document}"
  questions = [
    "Write down the author's feelings.",
    "Which character changes the most over the course of the novel, and what brings the change about?",
    "How does the narrator's point of view shape what the reader is allowed to know?",
  ]
  max_tokens  = 512
  temperature = 0
}

scenario "shared_critic" {
  target = target.critic # declared in target.hcl, not here
  corpus = corpus.novels
  script = script.critic
  rounds = 3
  seed   = 42

  grid {
    concurrent = [1, 2, 4]
    sequential = [1, 2, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }

  report {
    title = "Book critics, as run by ${var.team}"
  }
}
