// Package openai is mrqa's streaming client for OpenAI-compatible servers
// (/v1/chat/completions and /v1/completions), built so that its timing is
// exact and its own cost never shows in the figures.
//
// # Timing
//
// Every duration of a Result is measured from Result.Start on the monotonic
// clock; 0 means the moment never came.
//
//   - Start is taken just before the HTTP call, after the body is laid out.
//   - Connect is when the connection was ready, 0 when an open one was reused
//     (Conn.Warm opens it before a point's clock starts). Write is when the
//     request was fully written (httptrace).
//   - TTFT is the first event carrying generated text on any channel: delta
//     content, reasoning_content, reasoning, a non-empty tool_calls list, or a
//     completions choice's text. Its timestamp is taken right after the read
//     that delivered the event's last line returned, before the event's JSON is
//     decoded: several events arriving in one read share that read's instant.
//     A role-only first chunk, an empty content string and the usage-only final
//     chunk are not tokens.
//   - TTFC is the first event with content (or completions text): it differs
//     from TTFT for reasoning models.
//   - End is the last generated-text event; the usage chunk does not move it.
//   - ITL is (End − TTFT) / (CompletionTokens − 1). Chunks and MaxChunkGap
//     describe events, which may each carry several tokens; they are kept
//     apart from ITL.
//
// Token counts come from the stream's usage object (the last one sent;
// prompt_tokens_details.cached_tokens for CachedTokens, with CachedReported
// telling a reported 0 from a server that does not report it, as vLLM without
// --enable-prompt-tokens-details). Requests ask for it
// with stream_options.include_usage unless Preflight found that the server
// rejects that option. When no usage arrives and a Counter is configured,
// the client counts the content and reasoning text and the prompt's texts
// itself and sets ClientCounted. A Counter with CountErr(ctx, s) stops when
// the request's context ends, and the request then ends canceled. Usage that
// cannot be true (a negative count, more cached than prompt tokens, more
// than 100 × max_tokens generated, more prompt tokens than the body's bytes
// plus 8,192) is kept as sent with the reason in UsageInvalid.
//
// # Streams and errors
//
// The SSE reader takes comment lines, CRLF, CR or LF line ends, "data:" with
// or without a space, multi-line data (joined with "\n"), events split across
// reads or many to a read, and stops at [DONE] even if the server keeps the
// stream open (it then waits at most 100 ms for the stream's end so the
// connection can be reused, and drops the connection otherwise). The outcome
// of a request is its ErrKind:
//
//   - connect: no response (dial refused, connection reset before the
//     headers); timeout_connect: no connection (TCP and TLS) within
//     ConnectTimeout, or the system's dial timeout.
//   - http_<status>: a non-2xx status; ErrMessage is the body's message.
//   - timeout_first_token: no generated text within FirstTokenTimeout of
//     Start (waiting for headers included). timeout_idle: after the first
//     token, no event for IdleTimeout (comment lines such as ": ping" do
//     not count).
//   - server_error: an {"error": …} object (or vLLM's {"object":"error"})
//     inside a 200 stream.
//   - malformed: an event whose data is neither JSON object nor [DONE], or a
//     2xx answer whose bytes held no event at all (a proxy's HTML page, one
//     JSON document from a server that ignored "stream": true); its message
//     then says what arrived: the Content-Type and the first 100 bytes, on
//     one line with control characters escaped.
//   - stream_cut: the stream broke, ended with no byte at all, or ended
//     without [DONE] and without any choice having sent a finish_reason. A stream that ends cleanly after a
//     finish_reason but without [DONE] is a success (some servers omit it); an
//     event missing only its final blank line at the end is still taken.
//   - canceled: the caller's context ended.
//
// Every ErrMessage is at most 300 bytes (a longer one is cut and ends in "…").
//
// A stream that ends properly without any generated text (an immediate end
// of sequence) is a success whose TTFT, TTFC and End are 0: callers decide
// how to count it.
//
// # Request bodies
//
// A Text holds content JSON-escaped once. A body is laid out as small glue
// bytes plus references to the Texts' escaped bytes and streamed to the
// connection with a known Content-Length, so a long document is never copied
// into a per-request buffer. Bodies carry model, messages (or prompt),
// stream: true, max_tokens (when > 0), temperature and stream_options; each
// key of Config.ExtraBody is added and replaces the client's key of that name.
//
// # Completions template
//
// With API "completions" the messages are rendered into the prompt by a
// template of literal text and placeholders:
//
//	<prefix>{{messages}}<per message>{{end}}<suffix>
//
// The part between {{messages}} and {{end}} is repeated for every message, in
// order, with {{role}} replaced by the message's role and {{content}} by its
// content; it must contain {{content}}. The prefix and suffix are literal
// (typically the suffix opens the assistant's turn). Other {{name}} forms in
// the block are errors. The default, DefaultCompletionsTemplate, is ChatML:
//
//	{{messages}}<|im_start|>{{role}}\n{{content}}<|im_end|>\n{{end}}<|im_start|>assistant\n
//
// # Connections
//
// Each Conn has its own HTTP/1.1 transport keeping one connection alive
// across requests, with a 64 KiB read buffer and compression off (a gzip
// layer would batch events). Every request carries its ID as X-Request-Id.
// Proxies named by HTTP_PROXY/HTTPS_PROXY/NO_PROXY are honoured. Credentials
// in BaseURL become basic auth (unless APIKey is set). The credentials (the
// URL's user name and password, the Basic token made of them, APIKey, header
// values; each of 3 bytes or more) are replaced by "(sensitive)" in every
// error message and preflight note, also where a server echoes them back:
// in an error body (scrubbed before and after its JSON is decoded, since
// escapes can hide a credential), in an error event or a malformed event of a
// stream, or in a response header the transport quotes. Every message is
// scrubbed whole first and cut to 300 bytes after, so a credential that
// straddles the cut leaves nothing behind.
package openai
