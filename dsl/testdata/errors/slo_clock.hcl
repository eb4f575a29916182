# a condition that reads the clock, and an expect that reads the calendar
# want: Invalid SLO condition @ 23
# want: Invalid expect @ 18
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
  expect = "max_sessions >= 4 || date('2030-01-01').Year() > 2029"
  grid {
    concurrent = [1, 2]
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s && now().Hour() < 18" }
}
