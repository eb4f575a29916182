# Chat users on the simulator's virtual clock: an open-loop sweep. Sessions
# arrive at random (Poisson) whatever the server is doing, each sends a
# 32k-token document, then three questions, thinking about 15 s before each.
# The rate search finds the highest arrival rate whose steady TTFT p95 stays
# under 2 s, bracketed by a failing rate within 5 %: past the knee the
# sessions queue up and TTFT grows without bound. Runs in seconds.

target "vllm" {
  simulator {
    profile = "seed-vllm"
    clock   = "virtual"
  }
}

corpus "docs_32k" {
  source "synthetic" {
    documents = 64
    seed      = 1
  }
  tokenizer = "cl100k_base"
  tokens    = 32768
}

script "chat" {
  opening = "Read this document and summarize it.\n\n${document}"
  questions = [
    "What is the main argument?",
    "Which passage supports it best, and why?",
    "What would you ask the author?",
  ]
  max_tokens  = 256
  temperature = 0
}

scenario "chat_users" {
  target = target.vllm
  corpus = corpus.docs_32k
  script = script.chat
  rounds = 3
  seed   = 42

  users {
    arrival    = "poisson"
    rate       = [4, 8, 16, 32] # sessions starting per minute
    duration   = "10m"
    warmup     = "2m"
    max_active = 1000
    think_time {
      distribution = "exponential"
      mean         = "15s"
    }
  }

  slo "ttft" { condition = "ttft_p95 <= 5s" }
}
