# The serving team's part of the configuration: the server the shared
# workload (workload.hcl) runs against. Copy this file beside the workload,
# or write your own; the workload itself stays as published.
#
# As shipped it is the embedded simulator on its virtual clock, with the
# source benchmark's vLLM profile, so the folder runs anywhere in seconds.

target "critic" {
  simulator {
    profile = "seed-vllm"
    clock   = "virtual"
  }
}

# A vLLM server instead: replace the block above with
#
#   target "critic" {
#     base_url = "http://gpu1:8000/v1"          # OpenAI-compatible root, including /v1
#     model    = "Qwen/Qwen2.5-7B-Instruct-1M" # omit to take the only model /v1/models lists
#     api_key  = env("VLLM_API_KEY", "")       # a secret: never written anywhere
#   }
