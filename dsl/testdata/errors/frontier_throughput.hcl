# the frontier search with a throughput floor
# want: Condition unsuitable for the frontier search @ 25
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 256 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  search "frontier" {
    extend = true
  }
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
  slo "tput" { condition = "output_tokens_per_s >= 100" }
}
