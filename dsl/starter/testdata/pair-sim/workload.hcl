# The shared workload of a starter configuration, written by mrqa init -split:
# the documents, what every session asks, the grid and the SLO. Its scenario
# runs against target.server, declared in target.hcl beside it: a serving team
# replaces that file with its own target of the same name and leaves this one as
# published, and mrqa reads every .hcl file of the folder as one configuration.
#
# A starter scenario, written by mrqa init. It asks how many user sessions a
# server keeps active while the time to first token of follow-up turns stays
# within 2 s: C workers each serve S sessions in turn, and every session sends a
# long document, then 3 follow-up questions, resending the whole conversation
# each turn. Every value below says why it was picked; edit freely.
#
#   mrqa validate .   # both files, as one configuration; prints the plan
#   mrqa exec .       # run it; the report is out/capacity/report.html
#
# A smoke test, one point: -var concurrent=[1] -var sequential=[1].

# The grid rises in powers of two towards the knee: C loads the server's
# compute, S its KV cache, since every session's conversation stays cached
# between its turns. The largest point keeps 32 conversations of at least 132096
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

# Document length. The simulator states a context length (max_model_len) of
# 1010000 tokens. A quarter of it is held back for what the documents' token
# counts leave out: the chat template, the questions, and a server tokenizer
# that may count the same text up to a fifth longer than cl100k_base, which cuts
# the documents. The other 757500 tokens hold the document and 3 + 1 answers of
# max_tokens (1024 tokens), but documents stop at 131072 tokens, the length of
# the source benchmark's novels: longer ones would only slow every point.
# Rounded down to a multiple of 512, that is 131072: the longest conversation
# needs at least 132096 tokens, which exec checks against max_model_len before
# the first point.
variable "document_tokens" {
  type        = number
  default     = 131072
  description = "The tokens of every document, counted with cl100k_base."
}

# Answer length: a 64th of the context as a power of two, from 64 to 256 tokens
# (the source benchmark asks for 512). Long enough that answers decode alongside
# other sessions' turns, short enough that a point's time goes to the turns
# whose TTFT is measured.
variable "max_tokens" {
  type        = number
  default     = 256
  description = "The answer length every turn asks for."
}

locals {
  # Every session of a point gets its own document (assign = "distinct", the
  # default), so sessions share no cached prefix: a session's cache hits are
  # its own earlier turns.
  sessions = max(var.concurrent...) * max(var.sequential...)
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
  tokenizer = "cl100k_base" # the simulator counts with it too
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
  # that find their conversation in the prefix cache while it holds. Three, the
  # value the source benchmark's README uses.
  rounds = 3
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
