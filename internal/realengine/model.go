package realengine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/internal/splitmix"
)

// Model describes a random-weight llama-architecture model. Its weights
// are drawn from Seed, so the same Model always writes the same bytes; the
// text it generates is gibberish, but prefill, decode and the KV cache do
// the work a real model of this shape does.
type Model struct {
	Seed          uint64
	Layers        int
	Embedding     int // hidden size
	Heads         int
	KVHeads       int
	FeedForward   int
	ContextLength int // the longest context the file declares
	RopeFreqBase  float32
}

// DefaultModel is small enough to prefill a few thousand tokens per second
// on one CPU core: 4 layers of width 128, with cl100k_base's 100,277-token
// vocabulary (about 57 MB on disk, most of it the two embedding tables).
func DefaultModel() Model {
	return Model{
		Seed: 1, Layers: 4, Embedding: 128, Heads: 4, KVHeads: 4, FeedForward: 512,
		ContextLength: 131072, RopeFreqBase: 500000,
	}
}

// ChatTemplate is ChatML, the template the engine server applies.
const ChatTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// modelFormat changes whenever what Write produces for the same Model
// changes, so FileName never names a stale file.
const modelFormat = 1

// FileName is a name for the model's file that changes with every field
// and with the writer's format.
func (m Model) FileName() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d %+v", modelFormat, m))
	return "mrqa-random-" + hex.EncodeToString(sum[:6]) + ".gguf"
}

// EnsureFile writes the model to dir/FileName() unless it is there, and
// returns its path. The file appears whole or not at all.
func (m Model) EnsureFile(dir string) (string, error) {
	path := filepath.Join(dir, m.FileName())
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	var werr error // the model's own errors go out unwrapped
	err := atomicfile.Write(path, atomicfile.Options{Pattern: ".model-*.gguf"}, func(w io.Writer) error {
		werr = m.Write(w)
		return werr
	})
	if werr != nil {
		return "", werr
	}
	if err != nil {
		return "", fmt.Errorf("realengine: %w", err)
	}
	return path, nil
}

// Write writes the model as a GGUF file.
func (m Model) Write(w io.Writer) error {
	if m.Embedding%m.Heads != 0 || m.Heads%m.KVHeads != 0 {
		return fmt.Errorf("realengine: %d heads do not divide width %d or %d KV heads do not divide them", m.Heads, m.Embedding, m.KVHeads)
	}
	v, err := cl100kVocab()
	if err != nil {
		return err
	}
	return writeGGUF(w, m.metadata(v), m.tensors())
}

func (m Model) metadata(v *vocab) []kv {
	return []kv{
		{"general.architecture", "llama"},
		{"general.name", "mrqa-random"},
		{"general.file_type", uint32(1)}, // mostly f16
		{"llama.context_length", uint32(m.ContextLength)},
		{"llama.embedding_length", uint32(m.Embedding)},
		{"llama.block_count", uint32(m.Layers)},
		{"llama.feed_forward_length", uint32(m.FeedForward)},
		{"llama.attention.head_count", uint32(m.Heads)},
		{"llama.attention.head_count_kv", uint32(m.KVHeads)},
		{"llama.rope.dimension_count", uint32(m.Embedding / m.Heads)},
		{"llama.rope.freq_base", m.RopeFreqBase},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.vocab_size", uint32(VocabSize)},
		{"tokenizer.ggml.model", "gpt2"},
		{"tokenizer.ggml.pre", "dbrx"}, // llama.cpp's name for cl100k_base's split pattern
		{"tokenizer.ggml.tokens", v.tokens},
		{"tokenizer.ggml.token_type", v.types},
		{"tokenizer.ggml.merges", v.merges},
		{"tokenizer.ggml.bos_token_id", uint32(EndOfText)},
		{"tokenizer.ggml.eos_token_id", uint32(IMEnd)},
		{"tokenizer.ggml.padding_token_id", uint32(EndOfText)},
		{"tokenizer.ggml.add_bos_token", false},
		{"tokenizer.chat_template", ChatTemplate},
	}
}

// tensors lists llama.cpp's tensors for the llama architecture. Each
// matrix is filled from its own stream of the seed.
func (m Model) tensors() []tensor {
	e, kvw, ff, n := uint64(m.Embedding), uint64(m.Embedding/m.Heads*m.KVHeads), uint64(m.FeedForward), uint64(VocabSize)
	var ts []tensor
	matrix := func(name string, in, out uint64) {
		stream := uint64(len(ts))
		ts = append(ts, tensor{name: name, dims: []uint64{in, out}, typ: ggmlF16, fill: m.randomHalves(stream, in*out, 1/math.Sqrt(float64(in)))})
	}
	norm := func(name string) {
		ts = append(ts, tensor{name: name, dims: []uint64{e}, typ: ggmlF32, fill: ones(e)})
	}
	matrix("token_embd.weight", e, n)
	for l := range m.Layers {
		b := fmt.Sprintf("blk.%d.", l)
		norm(b + "attn_norm.weight")
		matrix(b+"attn_q.weight", e, e)
		matrix(b+"attn_k.weight", e, kvw)
		matrix(b+"attn_v.weight", e, kvw)
		matrix(b+"attn_output.weight", e, e)
		norm(b + "ffn_norm.weight")
		matrix(b+"ffn_gate.weight", e, ff)
		matrix(b+"ffn_up.weight", e, ff)
		matrix(b+"ffn_down.weight", ff, e)
	}
	norm("output_norm.weight")
	matrix("output.weight", e, n)
	return ts
}

// randomHalves fills count f16 values drawn uniformly from ±scale·√3 (unit
// variance after a layer of width 1/scale²) from stream of the seed.
func (m Model) randomHalves(stream, count uint64, scale float64) func(io.Writer) error {
	return func(w io.Writer) error {
		// splitmix is fully specified: the same seed gives the same weights
		// on every Go version.
		rng := splitmix.Source{State: m.Seed*splitmix.Gamma ^ stream<<32}
		a := scale * math.Sqrt(3)
		buf := make([]byte, 0, 1<<16)
		for i := uint64(0); i < count; i++ {
			u := float64(rng.Next()>>11) / (1 << 53) // [0, 1)
			buf = binary.LittleEndian.AppendUint16(buf, half(float32((2*u-1)*a)))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		_, err := w.Write(buf)
		return err
	}
}

func ones(n uint64) func(io.Writer) error {
	return func(w io.Writer) error {
		buf := make([]byte, 0, 4*n)
		for range n {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(1))
		}
		_, err := w.Write(buf)
		return err
	}
}
