# an SLO on a server metric of a target that has no metrics block can never have data
# want: Server metric without a metrics source @ 22
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 4 }
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
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
  slo "kv" { condition = "kv_cache_usage_max < 0.9" }
}
