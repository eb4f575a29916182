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
  # Long Project Gutenberg novels, each well over 128k tokens, downloaded
  # once and cached (mrqa prepare fetches them ahead of a run); the licence
  # header and footer are stripped. Where gutenberg.org cannot be reached,
  # add mirror = "https://..." (any server with the same /ebooks/<id>.txt.utf-8
  # layout), or copy the cache from a machine that ran mrqa prepare.
  #
  # 21 novels for the 16 sessions of the largest point: every session of a
  # point gets its own novel (assign = "distinct" below), as the source's
  # corpus of hundreds of books makes nearly certain. With fewer novels than
  # sessions, sessions share a novel and its cached prefix, and a server
  # looks as if it kept far more sessions active than it can: drawn from 13
  # novels, the simulator's seed-vllm profile passes at 16 sessions instead
  # of 12.
  source "gutenberg" {
    ids = [
      2701,  # Moby-Dick
      1342,  # Pride and Prejudice (the shortest here, about 161k cl100k tokens)
      2600,  # War and Peace
      145,   # Middlemarch
      1400,  # Great Expectations
      766,   # David Copperfield
      1023,  # Bleak House
      135,   # Les Misérables
      996,   # Don Quixote
      1399,  # Anna Karenina
      345,   # Dracula
      514,   # Little Women
      1260,  # Jane Eyre
      28054, # The Brothers Karamazov
      1184,  # The Count of Monte Cristo
      2554,  # Crime and Punishment
      4300,  # Ulysses
      1257,  # The Three Musketeers
      2610,  # Notre-Dame de Paris
      883,   # Our Mutual Friend
      580,   # The Pickwick Papers
    ]
  }
  tokenizer = "cl100k_base"
  tokens    = 131072
  # Fail when the corpus loads, not at the 4×4 point, if downloads or
  # lengths leave fewer novels than the largest point has sessions.
  min_documents = 16
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
  # Every session of a point reads a different novel (see the corpus).
  assign = "distinct"

  grid {
    concurrent = range(1, 5)
    sequential = [1, 2, 3, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }

  report {
    lmbench = true # also write each point in the source's JSON format
  }
}
