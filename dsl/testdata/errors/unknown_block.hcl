# a misspelt block type
# want: Unsupported block type @ 3
targt "t" {
}
