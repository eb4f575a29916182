# A sharded sweep of a fleet of identical vLLM replicas, run by the Indexed
# Job in sweep-job.yaml: shard I of N (mrqa exec -shard I/N) runs its part
# of the grid against replica I alone, and mrqa merge makes one result of
# the N parts (docs/kubernetes.md). The workload is the source benchmark's,
# as in scenarios/novel-critic.hcl: 128k-token novels, a summary, then
# follow-up questions resending the whole conversation.
#
# The replicas are the pods of a StatefulSet "vllm" behind a headless
# Service "vllm" in the Job's namespace: pod vllm-I answers at
# vllm-I.vllm. Each point must have its replica to itself, so never name
# the load-balanced Service here.

variable "replicas" {
  type = list(string)
  default = [
    "http://vllm-0.vllm:8000/v1",
    "http://vllm-1.vllm:8000/v1",
    "http://vllm-2.vllm:8000/v1",
    "http://vllm-3.vllm:8000/v1",
  ]
  description = "One OpenAI-compatible root per shard, including /v1: as many as the Job's completions."
}

variable "model" {
  type        = string
  default     = "Qwen/Qwen2.5-7B-Instruct-1M"
  description = "The model every replica serves."
}

variable "api_key" {
  type        = string
  default     = ""
  sensitive   = true
  description = "The replicas' API key: the Job sets MRQA_VAR_api_key from a Secret."
}

locals {
  replica = var.replicas[shard.index]
}

target "vllm" {
  base_url = local.replica
  model    = var.model
  api_key  = var.api_key

  timeouts {
    first_token = "10m" # a cold 128k-token prefill on a loaded server is slow
  }
  metrics {
    url = "${trimsuffix(local.replica, "/v1")}/metrics" # the same replica's vLLM metrics
  }
  between_points {
    reset_prefix_cache = true # every point starts cold (vLLM with VLLM_SERVER_DEV_MODE=1)
  }
}

corpus "novels_128k" {
  # Downloaded once into the results volume's cache (the Job sets
  # XDG_CACHE_HOME) and shared by the shards. Where the pods cannot reach
  # gutenberg.org, add mirror = "https://..." or use a source "dir".
  source "gutenberg" {
    ids = [
      2701, 1342, 2600, 145, 1400, 766, 1023, 135, 996, 1399, 345,
      514, 1260, 28054, 1184, 2554, 4300, 1257, 2610, 883, 580,
    ]
  }
  tokenizer     = "cl100k_base"
  tokens        = 131072
  min_documents = 16
}

script "critic" {
  opening = "Read and summarize this novel.\n\n${document}"
  questions = [
    "Write down the author's feelings.",
    "Which character changes the most over the course of the novel, and what brings the change about?",
    "How does the narrator's point of view shape what the reader is allowed to know?",
  ]
  max_tokens  = 512
  temperature = 0
}

scenario "fleet" {
  target = target.vllm
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42
  assign = "distinct" # every session of a point reads its own novel

  grid {
    concurrent = [1, 2, 3, 4]
    sequential = [1, 2, 3, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
