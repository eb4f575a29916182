# the simulator's context is known: a conversation that cannot fit is an error at validate
# want: Conversation longer than the context @ 18
target "sim" {
  simulator {
    max_model_len = 4096
  }
}
corpus "c" {
  source "synthetic" { documents = 4 }
  tokens = 8192
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
}
scenario "x" {
  target = target.sim
  corpus = corpus.c
  script = script.s
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
