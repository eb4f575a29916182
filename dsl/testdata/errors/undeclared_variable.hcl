# var.x without a variable block
# want: Reference to undeclared input variable @ 7
variable "base_url" {
  default = "http://127.0.0.1:8000/v1"
}
target "t" {
  base_url = var.base
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
    sequential = [1, 2]
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
