# Frontier search on the simulator's virtual clock: the same answer as the
# full 4×4 grid from a fraction of the points, then past the grid's edge until
# the limit is bracketed — the source notes that LMCache "has not yet reached
# its limit" on its 4×4 grid; this finds where it is.

target "vllm" {
  simulator {
    profile = "seed-vllm"
    clock   = "virtual"
  }
}

target "lmcache" {
  simulator {
    profile = "seed-lmcache"
    clock   = "virtual"
  }
}

corpus "novels_128k" {
  source "synthetic" {
    documents = 64 # enough distinct novels for points past the grid
    seed      = 1
  }
  tokenizer = "cl100k_base"
  tokens    = 131072
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

scenario "frontier_vllm" {
  target = target.vllm
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42

  grid {
    concurrent = [1, 2, 3, 4]
    sequential = [1, 2, 3, 4]
  }
  search "frontier" {}

  slo "ttft" { condition = "ttft_p95 <= 2s" }
  expect = "max_sessions >= 12"
}

scenario "frontier_lmcache" {
  target = target.lmcache
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42

  grid {
    concurrent = [1, 2, 3, 4]
    sequential = [1, 2, 3, 4]
  }
  search "frontier" {
    extend         = true
    max_concurrent = 16
    max_sequential = 4 # 16 × 4 = 64 sessions: as many novels as the corpus has (assign = "distinct")
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }
  expect = "max_sessions >= 16"
}
