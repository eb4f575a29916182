# A starter scenario, written by mrqa init. It asks how many user sessions the
# server keeps active while the time to first token of follow-up turns stays
# within 2 s: C workers each serve S sessions in turn, and every session sends a
# long document, then 2 follow-up questions, resending the whole conversation
# each turn. Every value below says why it was picked; edit freely.
#
#   mrqa validate mrqa.hcl   # check it and print the plan
#   mrqa exec mrqa.hcl       # run it; the report is out/capacity/report.html
#
# A smoke test, one point: -var concurrent=[1] -var sequential=[1].

# -var base_url=... points the file at another server serving the same model.
variable "base_url" {
  type        = string
  default     = "https://gpu.example/v1"
  description = "The server's OpenAI-compatible root, including /v1."
}

# The grid rises in powers of two towards the knee: C loads the server's
# compute, S its KV cache, since every session's conversation stays cached
# between its turns. The largest point keeps 32 conversations of at least 2752
# tokens each; when every point passes, widen the lists or let the search below
# extend past them.
variable "concurrent" {
  type        = list(number)
  default     = [1, 2, 4, 8]
  description = "C: the workers sending at once."
}

variable "sequential" {
  type        = list(number)
  default     = [1, 2, 4]
  description = "S: the sessions each worker serves in turn."
}

# Document length. The server does not state its context length (its /v1/models
# entry has no max_model_len), so this file assumes 4096 tokens, which nearly
# every model takes, and exec cannot check the fit: a conversation longer than
# the model takes fails with http_400. Raise document_tokens if it takes more. A
# quarter of it is held back for what the documents' token counts leave out: the
# chat template, the questions, and a server tokenizer that may count the same
# text up to a fifth longer than cl100k_base, which cuts the documents. The
# other 3072 tokens hold the document and 2 + 1 answers of max_tokens (192
# tokens). Rounded down to a multiple of 512, that is 2560: the longest
# conversation needs at least 2752 tokens, which exec checks against
# max_model_len before the first point.
variable "document_tokens" {
  type        = number
  default     = 2560
  description = "The tokens of every document, counted with cl100k_base."
}

# Answer length: a 64th of the context as a power of two, from 64 to 256 tokens
# (the source benchmark asks for 512). Long enough that answers decode alongside
# other sessions' turns, short enough that a point's time goes to the turns
# whose TTFT is measured.
variable "max_tokens" {
  type        = number
  default     = 64
  description = "The answer length every turn asks for."
}

locals {
  # Every session of a point gets its own document (assign = "distinct", the
  # default), so sessions share no cached prefix: a session's cache hits are
  # its own earlier turns.
  sessions = max(var.concurrent...) * max(var.sequential...)
}

target "server" {
  base_url = var.base_url
  # Chosen with -model of the 3 models the server lists.
  model = "b"
}

corpus "documents" {
  # Generated prose, no network. For real novels, name at least one long book
  # per session of the largest point, so that no two sessions share a cached
  # prefix, and run mrqa prepare to download them ahead of a run:
  #   source "gutenberg" { ids = [2701, 1342, 2600, 145, ...] }
  source "synthetic" {
    documents = local.sessions
    seed      = 1
  }
  tokenizer = "cl100k_base" # offline; "server" counts with vLLM's /tokenize
  tokens    = var.document_tokens
}

script "critic" {
  opening = "Read and summarize this novel.\n\n${document}"
  questions = [
    "Write down the author's feelings.",
    "Which character changes the most over the course of the novel, and what brings the change about?",
    "How does the narrator's point of view shape what the reader is allowed to know?",
  ]
  max_tokens  = var.max_tokens
  temperature = 0
}

scenario "capacity" {
  target = target.server
  corpus = corpus.documents
  script = script.critic
  # Follow-up turns after the opening: TTFT p95 is judged over them, the turns
  # that find their conversation in the prefix cache while it holds. Two: below
  # a 16384-token context a third answer takes too much of it.
  rounds = 2
  seed   = 42 # which document each session gets: same seed, same workload

  grid {
    concurrent = var.concurrent
    sequential = var.sequential
  }
  # Runs only the points whose outcome the points already run do not imply
  # (TTFT only grows with C and S). extend = true keeps doubling C and S past
  # the grid until a point fails.
  search "frontier" {}

  # The source benchmark's threshold; set your own.
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
