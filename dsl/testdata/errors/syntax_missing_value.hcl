# an attribute with no value
# want: Invalid expression @ 4
target "t" {
  base_url =
}
