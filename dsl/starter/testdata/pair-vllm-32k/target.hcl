# The serving team's part of the starter configuration, written by mrqa init
# -split: the server the workload in workload.hcl runs against. Replace this
# file with your own target "server" block (the name the workload uses) to
# measure another server.

# -var base_url=... points the file at another server serving the same model.
variable "base_url" {
  type        = string
  default     = "http://127.0.0.1:8000/v1"
  description = "The server's OpenAI-compatible root, including /v1."
}

target "server" {
  base_url = var.base_url
  # The only model the server lists.
  model = "Qwen/Qwen2.5-7B-Instruct"
  # The key is read from $STARTER_KEY when mrqa runs, and never written here.
  api_key = env("STARTER_KEY")
}
