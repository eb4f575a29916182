# The serving team's part of the starter configuration, written by mrqa init
# -split: the server the workload in workload.hcl runs against. Replace this
# file with your own target "server" block (the name the workload uses) to
# measure another server.
#
# As written it is mrqa's embedded simulator, profile "seed-vllm"
# (Qwen/Qwen2.5-7B-Instruct-1M on vLLM, one GPU, a 1900000-token KV cache), on
# its virtual clock: the sweep runs in seconds, anywhere. A vLLM server (started
# with `vllm serve Qwen/Qwen2.5-7B-Instruct-1M`) replaces the block with:
#
#   target "server" {
#     base_url = "http://127.0.0.1:8000/v1"
#     model    = "Qwen/Qwen2.5-7B-Instruct-1M"
#   }

target "server" {
  simulator {
    profile = "seed-vllm"
    clock   = "virtual" # simulated time: deterministic, seconds for the sweep
  }
}
