# several mistakes, all reported at once
# want: Unsupported argument @ 8
# want: Invalid duration @ 10
# want: Invalid SLO condition @ 28
# want: Empty grid @ 26
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  modle    = "m"
  timeouts {
    idle = "forever"
  }
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
    concurrent = [1]
    sequential = []
  }
  slo "ttft" { condition = "ttft_p95 <= 2" }
}
