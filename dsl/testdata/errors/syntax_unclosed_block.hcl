# a block without its closing brace
# want: Unclosed configuration block @ 3
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
