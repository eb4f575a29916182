package server

import (
	"fmt"
	"sync"

	"github.com/mrqa-dev/mrqa/runtime/sim/engine"
	tkz "github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// Chat template marker ids (ChatML's <|im_start|> and <|im_end|> in the
// cl100k_im numbering). They never come out of encoding text, so a message
// boundary always breaks BPE merges the way a real template's special tokens
// do, and each message's content can be tokenized on its own.
const (
	imStart = 100264
	imEnd   = 100265
)

// answerWords are the words generated answers are made of. Each, with its
// leading space, is one token in cl100k_base and o200k_base, and the
// encoders' pre-tokenizer splits before every space, so a generated answer
// re-tokenizes to exactly the tokens that were generated: the next turn's
// prompt then hits the cached blocks of this turn's answer, as on a real
// server.
var answerWords = [...]string{
	" the", " of", " and", " to", " in", " a", " is", " that", " for", " it",
	" as", " was", " with", " be", " by", " on", " not", " he", " this", " are",
	" or", " his", " from", " at", " which", " but", " have", " an", " had", " they",
	" you", " were", " their", " one", " all", " we", " can", " her", " has", " there",
	" been", " if", " more", " when", " will", " would", " who", " so", " no", " she",
	" novel", " story", " author", " chapter", " reader", " feeling", " character", " world", " time", " life",
	" light", " house", " night", " water",
}

// tokenizer counts prompts with a tiktoken encoding and caches each text's
// tokens, so a conversation that only grows at its end costs the encoder
// only its new messages. The cache is bounded by total tokens held.
type tokenizer struct {
	enc    tkz.Tokenizer    // encodes ordinarily: no special tokens
	role   map[string][]int // "user" -> tokens of "user\n"
	answer []int            // token id of each answerWords entry
	nl     []int            // tokens of "\n" after <|im_end|>
	text   map[int]string   // answer token id -> its text

	mu    sync.Mutex
	cache map[string]*cached
	clock uint64
	held  int
	limit int
}

type cached struct {
	tokens []int
	used   uint64
}

func newTokenizer(encoding string, limit int) (*tokenizer, error) {
	// The embedded ranks: nothing is ever downloaded, and tiktoken-go's
	// global loader is left alone.
	if encoding != tkz.CL100KBase && encoding != tkz.O200KBase {
		return nil, fmt.Errorf("tokenizer %q: the simulator supports %s and %s", encoding, tkz.CL100KBase, tkz.O200KBase)
	}
	enc, err := tkz.Load(encoding, tkz.Options{})
	if err != nil {
		return nil, err
	}
	t := &tokenizer{enc: enc, role: map[string][]int{}, text: map[int]string{},
		cache: map[string]*cached{}, limit: limit}
	for _, r := range []string{"system", "user", "assistant", "tool", "developer"} {
		t.role[r] = enc.Encode(r + "\n")
	}
	t.nl = enc.Encode("\n")
	for _, w := range answerWords {
		ids := enc.Encode(w)
		if len(ids) != 1 {
			return nil, fmt.Errorf("tokenizer %q: answer word %q is %d tokens, want 1", encoding, w, len(ids))
		}
		t.answer = append(t.answer, ids[0])
		t.text[ids[0]] = w
	}
	return t, nil
}

// encode returns the tokens of a text, a string or a rawText; the slice
// is shared and must not be changed. Long texts come as rawText and are
// cached by their raw JSON bytes, so a repeated document costs a map
// lookup: no decoding, no encoding. Short strings are encoded each time.
func (t *tokenizer) encode(text any) []int {
	switch x := text.(type) {
	case string:
		if x == "" {
			return nil
		}
		return t.enc.Encode(x)
	case rawText:
		return t.encodeRaw(x)
	}
	return t.enc.Encode(fmt.Sprint(text))
}

func (t *tokenizer) encodeRaw(x rawText) []int {
	t.mu.Lock()
	if c, ok := t.cache[string(x.raw)]; ok { // no allocation for the lookup
		t.clock++
		c.used = t.clock
		t.mu.Unlock()
		return c.tokens
	}
	t.mu.Unlock()
	ids := t.enc.Encode(x.String())
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.cache[string(x.raw)]; !ok {
		t.clock++
		t.cache[string(x.raw)] = &cached{tokens: ids, used: t.clock}
		t.held += len(ids)
		t.evict()
	}
	return ids
}

// evict drops least recently used texts until the cache fits its limit. It
// scans the map, which is fine: it runs only when a new long text arrives.
func (t *tokenizer) evict() {
	for t.held > t.limit && len(t.cache) > 1 {
		var oldest string
		var at uint64 = ^uint64(0)
		for k, c := range t.cache {
			if c.used < at {
				oldest, at = k, c.used
			}
		}
		t.held -= len(t.cache[oldest].tokens)
		delete(t.cache, oldest)
	}
}

// message is one chat message's role and text content (string | rawText).
type message struct {
	role    string
	content any
}

// chat feeds the ChatML rendering of msgs, plus the assistant generation
// prompt, to h, and returns the token count:
//
//	<|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
func (t *tokenizer) chat(msgs []message, h *hasher) int {
	n := 0
	feed := func(ids []int) {
		h.add(ids)
		n += len(ids)
	}
	for _, m := range msgs {
		role, ok := t.role[m.role]
		if !ok {
			role = t.encode(m.role + "\n")
		}
		feed([]int{imStart})
		feed(role)
		feed(t.encode(m.content))
		feed([]int{imEnd})
		feed(t.nl)
	}
	feed([]int{imStart})
	feed(t.role["assistant"])
	return n
}

// hasher computes chained block hashes over a token stream fed in pieces,
// the same hashes engine.HashTokens gives for the whole stream.
type hasher struct {
	block  int
	h      uint64 // the last full block's hash
	acc    uint64 // the partial block so far
	fill   int
	hashes []uint64
}

func (h *hasher) add(ids []int) {
	for _, id := range ids {
		h.acc = engine.Fold(h.acc, id)
		h.fill++
		if h.fill == h.block {
			h.h = engine.HashBlock(h.h, h.acc)
			h.hashes = append(h.hashes, h.h)
			h.acc, h.fill = 0, 0
		}
	}
}

// state identifies everything fed so far (for the answer's seed).
func (h *hasher) state() uint64 { return engine.Mix(h.h, h.acc^uint64(h.fill)) }
