# a completions template with a placeholder the client does not know
# want: Invalid completions_template @ 13
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
  api = "completions"
}
corpus "c" {
  source "synthetic" { documents = 16 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
  completions_template = "{{messages}}{{speaker}}: {{content}}{{end}}"
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
}
