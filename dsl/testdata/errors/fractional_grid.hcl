# a grid value that is not whole
# want: Invalid value @ 18
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
    concurrent = [1.5]
    sequential = [1]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
