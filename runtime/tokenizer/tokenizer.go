// Package tokenizer turns text into token ids and back for the corpus layer and
// for client-side counting. It offers the tiktoken encodings cl100k_base and
// o200k_base (embedded, never downloaded), Hugging Face tokenizer.json files
// with a byte-level BPE model (Qwen2/2.5/3, Llama 3, GPT-2 style) in pure Go,
// and a target server's /tokenize and /detokenize endpoints.
//
// Loading a tokenizer is expensive (hundreds of thousands of vocabulary
// entries), so callers keep a Cache for the run and share what it returns;
// every Tokenizer is safe for concurrent use.
package tokenizer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Tokenizer converts between text and token ids.
type Tokenizer interface {
	// Name identifies the tokenizer, e.g. "cl100k_base" or "hf:/path/tokenizer.json".
	Name() string
	// Encode returns the token ids of s, adding no special tokens (no BOS).
	Encode(s string) []int
	// Decode returns the text of ids.
	Decode(ids []int) string
	// Count returns len(Encode(s)), possibly faster.
	Count(s string) int
}

// Fallible is implemented by tokenizers whose operations can fail or be
// cancelled: the server tokenizer (a request), and the BPE tokenizers, whose
// Err methods stop when their context ends. Plain methods of a failing
// tokenizer return nil, "" or -1; use the package's EncodeErr, DecodeErr and
// CountErr to see why.
type Fallible interface {
	EncodeErr(ctx context.Context, s string) ([]int, error)
	DecodeErr(ctx context.Context, ids []int) (string, error)
	CountErr(ctx context.Context, s string) (int, error)
}

// EncodeErr encodes s, stopping with ctx's error once ctx ends (a
// tokenizer that is not Fallible runs to the end once started), and reports
// a failure of a Fallible tokenizer.
func EncodeErr(ctx context.Context, t Tokenizer, s string) ([]int, error) {
	if f, ok := t.(Fallible); ok {
		return f.EncodeErr(ctx, s)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.Encode(s), nil
}

// DecodeErr decodes ids as EncodeErr encodes.
func DecodeErr(ctx context.Context, t Tokenizer, ids []int) (string, error) {
	if f, ok := t.(Fallible); ok {
		return f.DecodeErr(ctx, ids)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return t.Decode(ids), nil
}

// CountErr counts the tokens of s as EncodeErr encodes.
func CountErr(ctx context.Context, t Tokenizer, s string) (int, error) {
	if f, ok := t.(Fallible); ok {
		return f.CountErr(ctx, s)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return t.Count(s), nil
}

// Options tell Load where to find what a tokenizer name refers to.
type Options struct {
	// BaseDir resolves a relative hf:PATH (the scenario file's directory).
	BaseDir string
	// ServerURL is the target server's root, without /v1, for "server".
	ServerURL string
	// Model is sent with server tokenize requests.
	Model string
	// HTTPClient is used by "server"; nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// Header is sent with every "server" request: the target's credentials
	// and headers. Credentials in ServerURL become basic auth unless Header
	// has an Authorization.
	Header http.Header
}

// Names of the built-in encodings and prefixes of the other kinds.
const (
	CL100KBase = "cl100k_base"
	O200KBase  = "o200k_base"
	HFPrefix   = "hf:"
	Server     = "server"
)

// Load builds the tokenizer called name: "cl100k_base", "o200k_base",
// "hf:PATH" (a tokenizer.json file, or a directory holding one) or "server".
// Prefer Cache.Load, which loads each tokenizer once.
func Load(name string, opts Options) (Tokenizer, error) {
	switch {
	case name == CL100KBase || name == O200KBase:
		return loadTiktoken(name)
	case strings.HasPrefix(name, HFPrefix):
		path, err := hfPath(name, opts.BaseDir)
		if err != nil {
			return nil, err
		}
		return LoadHF(path)
	case name == Server:
		return NewServer(opts.ServerURL, opts.Model, opts.HTTPClient, opts.Header)
	case name == "":
		return nil, errors.New("tokenizer: no tokenizer named")
	default:
		return nil, fmt.Errorf("tokenizer %q: unknown (want cl100k_base, o200k_base, hf:PATH or server)", name)
	}
}

// hfPath resolves hf:PATH against baseDir, and a directory to its tokenizer.json.
func hfPath(name, baseDir string) (string, error) {
	p := strings.TrimPrefix(name, HFPrefix)
	if p == "" {
		return "", fmt.Errorf("tokenizer %q: empty path", name)
	}
	if !filepath.IsAbs(p) && baseDir != "" {
		p = filepath.Join(baseDir, p)
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		p = filepath.Join(p, "tokenizer.json")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("tokenizer %q: %w", name, err)
	}
	return abs, nil
}

// Cache loads each distinct tokenizer once and shares it. The zero value is
// not usable; call NewCache. Safe for concurrent use: concurrent loads of the
// same tokenizer wait for one load.
type Cache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	once sync.Once
	tok  Tokenizer
	err  error
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{entries: map[string]*cacheEntry{}}
}

// Load returns the tokenizer called name, loading it on first use. A failed
// load is remembered too, so a broken file is reported once per key.
func (c *Cache) Load(name string, opts Options) (Tokenizer, error) {
	key := name
	switch {
	case strings.HasPrefix(name, HFPrefix):
		p, err := hfPath(name, opts.BaseDir)
		if err != nil {
			return nil, err
		}
		key = HFPrefix + p
	case name == Server:
		key = Server + "\x00" + opts.ServerURL + "\x00" + opts.Model
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &cacheEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.tok, e.err = Load(name, opts) })
	return e.tok, e.err
}
