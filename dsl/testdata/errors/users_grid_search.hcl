# a C×S search setting on an open-loop scenario
# want: Grid setting on an open-loop search @ 24
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
  users {
    rate       = [10, 20]
    sessions   = 100
    max_active = 50
  }
  search "frontier" {
    extend         = true
    max_concurrent = 8
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
