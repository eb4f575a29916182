# The source benchmark (LMBenchmark's real multi-round QA) as a scenario:
# every user gets a 128k-token novel, asks for a summary, then asks follow-up
# questions, resending the whole conversation each turn. It finds the largest
# C×S whose steady-state TTFT p95 stays within 2 s.
#
#   mrqa exec scenarios/novel-critic.hcl -var base_url=http://gpu-box:8000/v1

variable "base_url" {
  type        = string
  default     = "http://127.0.0.1:8000/v1"
  description = "The server's OpenAI-compatible root, including /v1."
}

variable "model" {
  type        = string
  default     = "Qwen/Qwen2.5-7B-Instruct-1M"
  description = "The model the server serves; the source benchmark used this one."
}

variable "api_key" {
  type        = string
  default     = ""
  sensitive   = true
  description = "Bearer token, if the server wants one (MRQA_VAR_api_key=...)."
}

target "server" {
  base_url = var.base_url
  model    = var.model
  api_key  = var.api_key

  timeouts {
    first_token = "10m" # a cold 128k-token prefill on a loaded server is slow
  }
}

corpus "novels_128k" {
  # Project Gutenberg novels longer than 128k tokens, downloaded once and
  # cached; the licence header and footer are stripped.
  source "gutenberg" {
    ids = [2701, 1342, 2600, 145, 1400, 766, 1023, 135, 996, 1399, 345, 514, 1260]
  }
  tokenizer = "cl100k_base"
  tokens    = 131072
}

script "critic" {
  # The source's two prompts, verbatim, then more in the same spirit.
  opening = "Read and summarize this novel.\n\n${document}"
  questions = [
    "Write down the author's feelings.",
    "Which character changes the most over the course of the novel, and what brings the change about?",
    "How does the narrator's point of view shape what the reader is allowed to know?",
    "Pick one recurring image or symbol and trace what it comes to mean.",
    "What does the ending resolve, and what does it deliberately leave open?",
    "How does the setting reflect the inner lives of the main characters?",
    "Which scene would you cut without losing anything essential, and why?",
  ]
  max_tokens  = 512 # the source's default answer length
  temperature = 0
}

scenario "novel_critic" {
  target = target.server
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42
  # 16 sessions share 13 novels at 4×4, so documents are drawn with
  # replacement, as the source benchmark draws them.
  assign = "random"

  grid {
    concurrent = range(1, 5)
    sequential = [1, 2, 3, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }

  report {
    lmbench = true # also write each point in the source's JSON format
  }
}
