// An OpenAI-compatible streaming server over llama.cpp (node-llama-cpp), on
// the CPU, for mrqa's tests: a real engine with a real KV cache that runs out.
//
//   node server.mjs --model FILE.gguf [--slots 4] [--context 8192]
//                   [--kv-budget 0] [--port 0] [--modules DIR] [--parent-stdin]
//
// The KV cache is a fixed number of slots (llama.cpp sequences), each holding
// one conversation's tokens. A request goes to a free slot that holds its
// prefix, and only the rest of its prompt is computed; otherwise it takes the
// least recently used free slot. --kv-budget caps the tokens all slots hold
// together: idle slots are emptied, least recently used first, to make room.
//
// Endpoints: POST /v1/chat/completions (stream or not, exactly max_tokens
// tokens), GET /v1/models, GET /metrics (vLLM's names), POST
// /reset_prefix_cache, POST /tokenize, POST /detokenize, GET /health, and
// GET /stamps: the server's own arrival and first-token times per
// X-Request-Id. When ready it prints one JSON line: {"ready":true,"url":…}.

import http from "node:http";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const DEFAULT_MAX_TOKENS = 16;
const MAX_BODY = 64 << 20;
const MAX_STAMPS = 100_000; // the most recent requests' stamps kept
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const QUEUE_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

const opts = parseOptions(process.argv.slice(2));
const { getLlama, TokenBias } = await importEngine(opts.modules);
const engine = await startEngine(opts);
const server = http.createServer((req, res) => {
	route(engine, req, res).catch((err) => {
		const status = err.status ?? (err instanceof SyntaxError ? 400 : 500);
		fail(res, status, status === 500 ? "InternalServerError" : "BadRequestError", String(err?.message ?? err));
	});
});
server.keepAliveTimeout = 120_000;
server.listen(opts.port, opts.host, () => {
	const { port } = server.address();
	console.log(JSON.stringify({ ready: true, url: `http://${opts.host}:${port}`, slots: opts.slots, context: engine.contextSize, kv_budget: opts.kvBudget }));
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
if (opts.parentStdin) {
	// The harness holds our stdin open; when it goes away, so do we.
	process.stdin.on("end", () => process.exit(0));
	process.stdin.resume();
}

function parseOptions(argv) {
	const { values } = parseArgs({
		args: argv,
		options: {
			model: { type: "string" },
			name: { type: "string", default: "mrqa-random" },
			host: { type: "string", default: "127.0.0.1" },
			port: { type: "string", default: "0" },
			slots: { type: "string", default: "4" },
			context: { type: "string", default: "8192" },
			batch: { type: "string", default: "512" },
			threads: { type: "string", default: "1" },
			"kv-budget": { type: "string", default: "0" },
			"parent-stdin": { type: "boolean", default: false },
			modules: { type: "string", default: process.env.MRQA_ENGINE_MODULES ?? path.join(import.meta.dirname, "node_modules") },
		},
	});
	if (!values.model) throw new Error("--model FILE.gguf is required");
	const int = (k) => {
		const n = Number(values[k]);
		if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a whole number, got ${values[k]}`);
		return n;
	};
	return {
		model: values.model, name: values.name, host: values.host, port: int("port"), modules: values.modules,
		slots: Math.max(1, int("slots")), context: int("context"), batch: int("batch"), threads: Math.max(1, int("threads")),
		kvBudget: int("kv-budget"), parentStdin: values["parent-stdin"],
	};
}

// importEngine loads node-llama-cpp from a node_modules folder given at run
// time (ES modules ignore NODE_PATH).
async function importEngine(modules) {
	const require = createRequire(path.join(path.resolve(modules), "resolve.js"));
	return import(pathToFileURL(require.resolve("node-llama-cpp")).href);
}

// startEngine loads the model on the CPU from the prebuilt binaries only
// (nothing is compiled or downloaded) and creates one context whose
// sequences are the slots. Flash attention is off: on a CPU it made cached
// follow-ups slower than cold prompts.
async function startEngine(o) {
	const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true, logLevel: "error" });
	const model = await llama.loadModel({ modelPath: o.model });
	const context = await model.createContext({
		sequences: o.slots, contextSize: o.context, batchSize: o.batch, threads: o.threads, flashAttention: false,
	});
	if (o.kvBudget > 0 && o.kvBudget < context.contextSize) {
		throw new Error(`--kv-budget ${o.kvBudget} is below one slot's context (${context.contextSize}): a long request could never run`);
	}
	const slots = [];
	for (let i = 0; i < o.slots; i++) slots.push({ seq: context.getSequence(), tokens: [], busy: false, need: 0, used: 0, pending: null });
	return {
		opts: o, llama, model, context, slots, contextSize: context.contextSize,
		capacity: o.kvBudget > 0 ? o.kvBudget : o.slots * context.contextSize,
		chat: chatMarkers(model), bias: visibleTextOnly(model),
		queue: [], tick: 0, created: Math.floor(Date.now() / 1000),
		stats: { queries: 0, hits: 0, prompt: 0, generated: 0, evictions: 0 },
		ttft: histogram(TTFT_BUCKETS), queueTime: histogram(QUEUE_BUCKETS),
		stamps: new Map(),
	};
}

// chatMarkers are ChatML's special tokens, looked up in the model's vocabulary.
function chatMarkers(model) {
	const one = (text) => {
		const t = model.tokenize(text, true);
		if (t.length !== 1) throw new Error(`the model has no single token for ${text}`);
		return t[0];
	};
	return { start: one("<|im_start|>"), end: one("<|im_end|>"), newline: model.tokenize("\n", false) };
}

// visibleTextOnly forbids every token that is not visible text on its own:
// end-of-generation and other control tokens, and tokens whose bytes are not
// valid UTF-8 alone. So every answer is exactly max_tokens tokens, and every
// streamed delta is text. (TokenBias.set skips end-of-generation tokens on
// purpose; this server writes their bias directly, which the pinned version
// reads as it reads any other.)
function visibleTextOnly(model) {
	const bias = new TokenBias(model.tokenizer);
	const size = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
	for (let t = 0; t < size; t++) {
		const text = model.detokenize([t], false);
		if (model.isEogToken(t) || model.isSpecialToken(t) || text === "" || text.includes("\uFFFD")) bias._biases.set(t, -Infinity);
	}
	return bias;
}

async function route(e, req, res) {
	const url = new URL(req.url, "http://x");
	const key = `${req.method} ${url.pathname}`;
	switch (key) {
		case "POST /v1/chat/completions": return chat(e, req, res);
		case "GET /v1/models": return models(e, res);
		case "GET /metrics": return metrics(e, res);
		case "POST /reset_prefix_cache": return reset(e, res);
		case "POST /tokenize": return tokenize(e, req, res);
		case "POST /detokenize": return detokenize(e, req, res);
		case "GET /stamps": return json(res, 200, { stamps: Object.fromEntries(e.stamps) });
		case "GET /health": res.writeHead(200); return res.end();
	}
	fail(res, 404, "NotFoundError", `no route ${key}`);
}

function models(e, res) {
	json(res, 200, {
		object: "list",
		data: [{ id: e.opts.name, object: "model", created: e.created, owned_by: "llama.cpp", root: e.opts.name, parent: null, max_model_len: e.contextSize }],
	});
}

// chat serves one chat completion: check, tokenize, wait for a slot, reuse
// its prefix, generate exactly max_tokens tokens, stream them.
async function chat(e, req, res) {
	const arrival = performance.now();
	const id = req.headers["x-request-id"] || `req-${++e.tick}`;
	let body;
	try {
		body = parseChat(e, JSON.parse(await readBody(req)));
	} catch (err) {
		return fail(res, err.status ?? 400, err.type ?? "BadRequestError", err.message);
	}
	const prompt = chatTokens(e, body.messages);
	if (prompt.length + body.maxTokens > e.contextSize) {
		return fail(res, 400, "BadRequestError", `This model's maximum context length is ${e.contextSize} tokens. However, you requested ${prompt.length + body.maxTokens} tokens (${prompt.length} in the messages, ${body.maxTokens} in the completion). Please reduce the length of the messages or completion.`);
	}
	const out = body.stream ? streamWriter(e, res, id, body.includeUsage) : wholeWriter(e, res, id);
	const closed = new AbortController();
	res.on("close", () => closed.abort());
	const { slot, cached, queued } = await acquire(e, prompt, body.maxTokens);
	e.queueTime.observe((queued - arrival) / 1000);
	try {
		await generate(e, slot, prompt, cached, body.maxTokens, closed.signal, (text, n) => {
			if (n === 1) stamp(e, id, arrival, prompt.length, cached);
			out.token(text, n === body.maxTokens);
		});
		out.finish(prompt.length, body.maxTokens, cached);
	} catch (err) {
		out.error(String(err?.message ?? err));
	} finally {
		await release(e, slot);
	}
}

function parseChat(e, b) {
	const bad = (msg, status = 400, type = "BadRequestError") => Object.assign(new Error(msg), { status, type });
	if (b === null || typeof b !== "object") throw bad("the body must be a JSON object");
	if (b.model != null && b.model !== e.opts.name) throw bad(`The model \`${b.model}\` does not exist.`, 404, "NotFoundError");
	if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad("messages must be a non-empty array");
	const messages = b.messages.map((m, i) => {
		if (!m || typeof m.role !== "string" || m.role === "") throw bad(`messages[${i}].role must be a non-empty string`);
		return { role: m.role, content: contentText(m.content) };
	});
	const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? DEFAULT_MAX_TOKENS;
	if (!Number.isInteger(maxTokens) || maxTokens < 1) throw bad(`max_tokens must be at least 1, got ${maxTokens}.`);
	return { messages, maxTokens, stream: b.stream === true, includeUsage: b.stream_options?.include_usage === true };
}

function contentText(c) {
	if (c == null) return "";
	if (typeof c === "string") return c;
	if (Array.isArray(c)) return c.filter((p) => p?.type === "text").map((p) => String(p.text ?? "")).join("");
	throw Object.assign(new Error("content must be a string or an array of text parts"), { status: 400 });
}

// chatTokens renders ChatML as tokens: each message is <|im_start|>, its
// role, a newline and its content tokenized as plain text (special-token
// text in it stays text), <|im_end|>, a newline; then the assistant's turn
// is opened. This is what the model file's chat template renders.
function chatTokens(e, messages) {
	const { start, end, newline } = e.chat;
	const out = [];
	for (const m of messages) out.push(start, ...e.model.tokenize(`${m.role}\n${m.content}`, false), end, ...newline);
	out.push(start, ...e.model.tokenize("assistant\n", false));
	return out;
}

// acquire waits for a slot and reports how many leading prompt tokens it
// already holds.
function acquire(e, prompt, maxTokens) {
	return new Promise((resolve) => {
		e.queue.push({ prompt, need: prompt.length + maxTokens, resolve });
		dispatch(e);
	});
}

// dispatch hands free slots to waiting requests in arrival order.
function dispatch(e) {
	while (e.queue.length > 0) {
		const w = e.queue[0];
		const choice = chooseSlot(e, w.prompt);
		if (!choice || !makeRoom(e, choice.slot, w.need)) return;
		e.queue.shift();
		if (choice.takeover) e.stats.evictions++;
		choice.slot.busy = true;
		choice.slot.need = w.need;
		e.stats.queries += w.prompt.length;
		e.stats.hits += choice.cached;
		e.stats.prompt += w.prompt.length;
		w.resolve({ slot: choice.slot, cached: choice.cached, queued: performance.now() });
	}
}

// chooseSlot picks among the free slots the one holding the longest prefix
// of the prompt, when that prefix is at least half of what the slot holds
// (the conversation continues there); otherwise the least recently used.
// Openings share a few template tokens with every slot, and must not take a
// live conversation's slot for them. At least the prompt's last token is
// always computed, so there are logits to sample from.
function chooseSlot(e, prompt) {
	let best = null;
	let lru = null;
	for (const s of e.slots) {
		if (s.busy) continue;
		const common = Math.min(commonPrefix(s.tokens, prompt), prompt.length - 1);
		if (common > 0 && 2 * common >= s.tokens.length && (!best || common > best.cached)) best = { slot: s, cached: common, takeover: false };
		if (!lru || s.used < lru.used) lru = s;
	}
	if (best) return best;
	if (!lru) return null;
	return { slot: lru, cached: Math.min(commonPrefix(lru.tokens, prompt), prompt.length - 1), takeover: lru.tokens.length > 0 };
}

function commonPrefix(a, b) {
	const n = Math.min(a.length, b.length);
	let i = 0;
	while (i < n && a[i] === b[i]) i++;
	return i;
}

// makeRoom keeps the KV budget: with the request's slot grown to need
// tokens, every slot together must fit. Idle slots are emptied, least
// recently used first; when that is not enough the request waits.
function makeRoom(e, slot, need) {
	if (e.opts.kvBudget === 0) return true;
	const others = e.slots.filter((s) => s !== slot);
	let held = need + others.reduce((n, s) => n + (s.busy ? s.need : s.tokens.length), 0);
	const idle = others.filter((s) => !s.busy && s.tokens.length > 0).sort((a, b) => a.used - b.used);
	const victims = [];
	for (const s of idle) {
		if (held <= e.opts.kvBudget) break;
		held -= s.tokens.length;
		victims.push(s);
	}
	if (held > e.opts.kvBudget) return false;
	for (const s of victims) evict(e, s);
	return true;
}

function evict(e, s) {
	const n = s.seq.nextTokenIndex;
	s.tokens = [];
	s.used = 0;
	e.stats.evictions++;
	const previous = s.pending ?? Promise.resolve();
	s.pending = previous.then(() => s.seq.eraseContextTokenRanges([{ start: 0, end: n }]));
}

// generate drops what the slot holds past the reused prefix, computes the
// rest of the prompt and samples exactly maxTokens tokens greedily, calling
// emit with each token's text and count.
async function generate(e, slot, prompt, cached, maxTokens, signal, emit) {
	if (slot.pending) await slot.pending;
	slot.pending = null;
	if (signal.aborted) return;
	const held = slot.seq.nextTokenIndex;
	if (held > cached) await slot.seq.eraseContextTokenRanges([{ start: cached, end: held }]);
	let n = 0;
	for await (const token of slot.seq.evaluate(prompt.slice(cached), { temperature: 0, tokenBias: e.bias })) {
		n++;
		e.stats.generated++;
		emit(e.model.detokenize([token], false), n);
		if (n === maxTokens || signal.aborted) break;
	}
	if (n < maxTokens && !signal.aborted) throw new Error(`the engine stopped after ${n} of ${maxTokens} tokens`);
}

async function release(e, slot) {
	slot.tokens = slot.seq.contextTokens.slice();
	slot.used = ++e.tick;
	slot.busy = false;
	dispatch(e);
}

function stamp(e, id, arrival, promptTokens, cached) {
	const first = performance.now();
	e.ttft.observe((first - arrival) / 1000);
	if (e.stamps.size >= MAX_STAMPS) e.stamps.delete(e.stamps.keys().next().value);
	e.stamps.set(id, { arrival_ms: arrival, first_token_ms: first, ttft_s: (first - arrival) / 1000, prompt_tokens: promptTokens, cached_tokens: cached });
}

async function reset(e, res) {
	for (const s of e.slots) if (!s.busy && s.tokens.length > 0) evict(e, s);
	await Promise.all(e.slots.map((s) => s.pending));
	res.writeHead(200);
	res.end();
}

// streamWriter writes vLLM's event stream: with the first token a role
// chunk, then one content delta per token, the last with finish_reason
// "length", a usage chunk when asked, then [DONE].
function streamWriter(e, res, id, includeUsage) {
	const head = { id: `chatcmpl-${id}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: e.opts.name };
	const event = (choices, extra = {}) => `data: ${JSON.stringify({ ...head, choices, ...extra })}\n\n`;
	res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
	let sent = 0;
	return {
		token(text, last) {
			let chunk = "";
			if (sent++ === 0) chunk += event([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]);
			chunk += event([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: last ? "length" : null }]);
			res.write(chunk);
		},
		finish(prompt, completion, cached) {
			if (includeUsage) res.write(event([], { usage: usage(prompt, completion, cached) }));
			res.end("data: [DONE]\n\n");
		},
		error(message) {
			res.end(`data: ${JSON.stringify({ error: { message, type: "InternalServerError", param: null, code: 500 } })}\n\ndata: [DONE]\n\n`);
		},
	};
}

function wholeWriter(e, res, id) {
	let text = "";
	return {
		token(t) { text += t; },
		finish(prompt, completion, cached) {
			json(res, 200, {
				id: `chatcmpl-${id}`, object: "chat.completion", created: Math.floor(Date.now() / 1000), model: e.opts.name,
				choices: [{ index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: "length" }],
				usage: usage(prompt, completion, cached),
			});
		},
		error(message) { fail(res, 500, "InternalServerError", message); },
	};
}

function usage(prompt, completion, cached) {
	return { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion, prompt_tokens_details: { cached_tokens: cached } };
}

async function tokenize(e, req, res) {
	const b = JSON.parse(await readBody(req));
	if (typeof b.prompt !== "string") return fail(res, 400, "BadRequestError", "prompt must be a string");
	const tokens = e.model.tokenize(b.prompt, false);
	json(res, 200, { count: tokens.length, max_model_len: e.contextSize, tokens });
}

async function detokenize(e, req, res) {
	const b = JSON.parse(await readBody(req));
	if (!Array.isArray(b.tokens)) return fail(res, 400, "BadRequestError", "tokens must be an array");
	json(res, 200, { prompt: e.model.detokenize(b.tokens, false) });
}

// metrics serves Prometheus text with vLLM's names for what this server
// knows. cache_config_info describes the cache as vLLM does, with one-token
// blocks; num_gpu_blocks is the capacity in tokens.
function metrics(e, res) {
	const labels = `model_name=${JSON.stringify(e.opts.name)}`;
	const held = e.slots.reduce((n, s) => n + (s.busy ? s.seq.nextTokenIndex : s.tokens.length), 0);
	const running = e.slots.filter((s) => s.busy).length;
	const lines = [];
	const metric = (name, type, help, v, l = labels) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${l}} ${v}`);
	metric("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", running);
	metric("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", e.queue.length);
	metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", held / e.capacity);
	metric("vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", e.stats.queries);
	metric("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", e.stats.hits);
	metric("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", e.stats.prompt);
	metric("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", e.stats.generated);
	metric("realengine:slot_evictions_total", "counter", "Conversations dropped from a slot: to keep the KV budget, by a reset, or for another conversation.", e.stats.evictions);
	metric("vllm:cache_config_info", "gauge", "Information of the LLMEngine CacheConfig.", 1,
		`block_size="1",cache_dtype="f16",enable_prefix_caching="True",num_gpu_blocks="${e.capacity}",num_cpu_blocks="0",num_slots="${e.slots.length}",slot_context="${e.contextSize}"`);
	e.ttft.write(lines, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels);
	e.queueTime.write(lines, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", labels);
	res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
	res.end(lines.join("\n") + "\n");
}

function histogram(bounds) {
	const counts = bounds.map(() => 0);
	let sum = 0;
	let n = 0;
	return {
		observe(v) {
			sum += v;
			n++;
			const i = bounds.findIndex((b) => v <= b);
			if (i >= 0) counts[i]++;
		},
		write(lines, name, help, labels) {
			lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
			let cum = 0;
			bounds.forEach((b, i) => {
				cum += counts[i];
				lines.push(`${name}_bucket{${labels},le="${b}"} ${cum}`);
			});
			lines.push(`${name}_bucket{${labels},le="+Inf"} ${n}`, `${name}_sum{${labels}} ${sum}`, `${name}_count{${labels}} ${n}`);
		},
	};
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const parts = [];
		let size = 0;
		req.on("data", (c) => {
			size += c.length;
			if (size > MAX_BODY) {
				reject(Object.assign(new Error("the body is too large"), { status: 413 }));
				req.destroy();
				return;
			}
			parts.push(c);
		});
		req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
		req.on("error", reject);
	});
}

function json(res, status, v) {
	res.writeHead(status, { "Content-Type": "application/json" });
	res.end(JSON.stringify(v));
}

// fail writes vLLM's (OpenAI's) error object.
function fail(res, status, type, message) {
	if (res.headersSent) return res.end();
	json(res, status, { error: { message, type, param: null, code: status } });
}
