# tokenizer = "server" against the embedded simulator
# want: Server tokenizer with the simulator @ 16
target "sim" {
  simulator {}
}
corpus "c" {
  source "synthetic" { documents = 16 }
  tokenizer = "server"
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
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
