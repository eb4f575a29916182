// Package realengine is a test harness that puts a real inference engine
// under mrqa: llama.cpp on the CPU, through the npm package node-llama-cpp,
// serving a small random-weight model that this package writes as a GGUF
// file with the cl100k_base vocabulary, so the engine's token counts are
// mrqa's. The engine's server (node/server.mjs) speaks the OpenAI streaming
// API and vLLM's /metrics; its KV cache is real, and runs out.
//
// Nothing here is part of the mrqa binary. The tests skip when node or the
// npm packages are missing, unless MRQA_REQUIRE_ENGINE=1.
package realengine
