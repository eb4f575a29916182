# The source benchmark's A/B comparison: the same novel-critic workload
# against vLLM alone and against vLLM with LMCache offloading the KV cache
# to CPU memory. exec runs both scenarios and writes a comparison page with
# the ratio of their best C×S.
#
#   mrqa exec scenarios/vllm-vs-lmcache.hcl \
#     -var vllm_url=http://gpu-a:8000/v1 -var lmcache_url=http://gpu-b:8000/v1

variable "vllm_url" {
  type        = string
  default     = "http://127.0.0.1:8000/v1"
  description = "vLLM without offloading."
}

variable "lmcache_url" {
  type        = string
  default     = "http://127.0.0.1:8001/v1"
  description = "vLLM with the LMCache connector."
}

variable "model" {
  type    = string
  default = "Qwen/Qwen2.5-7B-Instruct-1M"
}

locals {
  # Each point starts from an empty prefix cache, so no point inherits the
  # documents of the one before it.
  fresh_cache = true
}

target "vllm" {
  base_url = var.vllm_url
  model    = var.model
  between_points {
    reset_prefix_cache = local.fresh_cache
    cooldown           = "5s"
  }
}

target "lmcache" {
  base_url = var.lmcache_url
  model    = var.model
  between_points {
    reset_prefix_cache = local.fresh_cache
    cooldown           = "5s"
  }
}

corpus "novels_128k" {
  # The novels of novel-critic.hcl: 21 long ones, so that each of the 16
  # sessions of the largest point reads its own (assign = "distinct"). Fewer
  # novels than sessions would let sessions share cached prefixes and make
  # both servers look better than they are.
  source "gutenberg" {
    ids = [
      2701, 1342, 2600, 145, 1400, 766, 1023, 135, 996, 1399, 345, 514, 1260,
      28054, 1184, 2554, 4300, 1257, 2610, 883, 580,
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
    "Pick one recurring image or symbol and trace what it comes to mean.",
  ]
  max_tokens  = 512
  temperature = 0
}

scenario "vllm" {
  target = target.vllm
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42
  assign = "distinct"

  grid {
    concurrent = [1, 2, 3, 4]
    sequential = [1, 2, 3, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }
}

scenario "lmcache" {
  target = target.lmcache
  corpus = corpus.novels_128k
  script = script.critic
  rounds = 3
  seed   = 42 # the same seed: both servers see the same documents per point
  assign = "distinct"

  grid {
    concurrent = [1, 2, 3, 4]
    sequential = [1, 2, 3, 4]
  }

  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
