# bytes that are not UTF-8 in a string
# want: Invalid character encoding @ 5
# want: Unterminated template string @ 5
target "t" {
  model = "ÿþ"
}
