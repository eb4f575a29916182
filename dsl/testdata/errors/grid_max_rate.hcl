# max_rate on a closed-loop scenario
# want: Rate setting on a grid search @ 21
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 16 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  grid {
    concurrent = [1, 2]
    sequential = [1]
  }
  search "frontier" { max_rate = 100 }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
