# two scenarios whose results would land in one folder
# want: Two scenarios write to one folder @ 24
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
scenario "a" {
  target = target.t
  corpus = corpus.c
  script = script.s
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
  report { dir = "out/b" }
}
scenario "b" {
  target = target.t
  corpus = corpus.c
  script = script.s
  grid {
    concurrent = [1]
    sequential = [1]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
