# a grid and a users block in one scenario
# want: Closed loop and open loop at once @ 21
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
  users {
    rate       = [10, 20]
    sessions   = 100
    max_active = 50
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
