# The quickstart: a 3×3 grid against the embedded simulator with generated
# documents. No network, no GPU; it finishes in under a minute.
#
#   go run ./cmd/mrqa exec scenarios/quickstart.hcl   # writes out/quickstart/report.html

target "sim" {
  simulator {
    profile = "quickstart" # small KV cache: larger points thrash and recompute
    clock   = "real"       # served over HTTP on 127.0.0.1, like a real server
  }
  between_points {
    reset_prefix_cache = true # every point starts on an empty prefix cache
  }
}

corpus "synthetic" {
  source "synthetic" {
    documents = 12
    seed      = 1
  }
  tokenizer = "cl100k_base"
  tokens    = 2048
}

script "critic" {
  opening = "Read and summarize this novel.\n\n${document}"
  questions = [
    "Write down the author's feelings.",
    "Which character changes the most, and what changes them?",
  ]
  max_tokens  = 32
  temperature = 0
}

scenario "quickstart" {
  target = target.sim
  corpus = corpus.synthetic
  script = script.critic
  rounds = 2
  seed   = 42

  grid {
    concurrent = [1, 2, 3]
    sequential = [1, 2, 3]
  }

  slo "ttft" { condition = "ttft_p95 <= 250ms" }
}
