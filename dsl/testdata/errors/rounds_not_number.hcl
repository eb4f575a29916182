# rounds that is not a number: one error, not a second one judging the
# default that stands in for it (3 rounds, more than the script's 2 questions)
# want: Incorrect attribute value type @ 18
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 16 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  rounds = "two"
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
