// Package corpus turns a scenario's corpus block into documents: it reads
// them from Project Gutenberg (downloaded once into a cache), a local folder,
// or a deterministic prose generator, strips Gutenberg boilerplate, and cuts
// each document to exactly the number of tokens the scenario asks for with
// the scenario's tokenizer. Nothing here downloads once the cache is filled
// (Options.Offline makes that a hard rule).
package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/mrqa-dev/mrqa/runtime/tokenizer"
)

// Document is one usable document of a corpus.
type Document struct {
	ID     string
	Title  string // from the Gutenberg header; generated for synthetic; "" otherwise
	Text   string // after cleaning and slicing
	Tokens int    // tokens of Text with the corpus tokenizer
	SHA256 string // hex sha256 of Text
	Source string // e.g. "gutenberg:2701", "dir:/data/128k/84.txt", "synthetic:seed=1"
}

// Warning is something the user should know about a document, such as why
// it was dropped.
type Warning struct {
	DocumentID string
	Msg        string
}

func (w Warning) String() string { return w.DocumentID + ": " + w.Msg }

// Options configure Load and Prepare.
type Options struct {
	// Tokenizers shares loaded tokenizers; nil uses a fresh cache.
	Tokenizers *tokenizer.Cache
	// Tokenizer carries what tokenizer.Load needs beyond the name (the
	// server URL and model for "server"); BaseDir defaults to the corpus's.
	Tokenizer tokenizer.Options
	// TokenizerFor, when set, gives each corpus its own tokenizer options
	// in place of Tokenizer: Prepare's corpora may be used against
	// different targets, whose servers count a "server" corpus.
	TokenizerFor func(c *spec.Corpus) (tokenizer.Options, error)
	// HTTPClient downloads books; nil uses a client with connect, header and
	// overall timeouts.
	HTTPClient *http.Client
	// Progress receives progress lines; nil discards them.
	Progress io.Writer
	// Offline forbids downloads: a book missing from the cache is an error.
	Offline bool
	// Attempts per download (default 4) and the first retry delay (default
	// 1 s, doubling); Sleep waits between attempts (default: a timer that
	// honours ctx). Tests inject Sleep.
	Attempts int
	Backoff  time.Duration
	Sleep    func(ctx context.Context, d time.Duration) error
	// Workers slicing documents in parallel; 0 means GOMAXPROCS.
	Workers int
}

// rawDoc is a document before cleaning and slicing.
type rawDoc struct {
	id, title, source string
	text              string
	err               error // obtaining it failed
	// synthetic documents are generated during slicing, to the size needed.
	synth *syntheticDoc
}

// Load reads, cleans and slices the documents of c, in source order. A
// document that cannot be cut to the asked size is dropped with a warning;
// fewer usable documents than c.MinDocuments (at least one) is an error
// that says why the others were dropped.
func Load(ctx context.Context, c *spec.Corpus, opts Options) ([]Document, []Warning, error) {
	if c == nil {
		return nil, nil, errors.New("corpus: nil corpus")
	}
	tok, err := loadTokenizer(c, opts)
	if err != nil {
		return nil, nil, err
	}
	raws, err := gather(ctx, c, opts, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range raws {
		if r.err != nil {
			return nil, nil, fmt.Errorf("corpus %q: %w", c.Name, r.err)
		}
	}
	return finish(ctx, c, tok, raws, opts)
}

func loadTokenizer(c *spec.Corpus, opts Options) (tokenizer.Tokenizer, error) {
	cache := opts.Tokenizers
	if cache == nil {
		cache = tokenizer.NewCache()
	}
	topts := opts.Tokenizer
	if opts.TokenizerFor != nil {
		var err error
		if topts, err = opts.TokenizerFor(c); err != nil {
			return nil, fmt.Errorf("corpus %q: %w", c.Name, err)
		}
	}
	if topts.BaseDir == "" {
		topts.BaseDir = c.BaseDir
	}
	name := c.Tokenizer
	if name == "" {
		name = tokenizer.CL100KBase
	}
	tok, err := cache.Load(name, topts)
	if err != nil {
		return nil, fmt.Errorf("corpus %q: %w", c.Name, err)
	}
	return tok, nil
}

// bookEvent reports what happened to one Gutenberg book while gathering.
type bookEvent struct {
	id      int
	url     string
	fetched bool // downloaded now (false: served from the cache)
	bytes   int
	note    string // e.g. a damaged cache entry that was replaced
	err     error
}

// gather obtains the raw documents of c in order. Per-book failures are
// recorded on the rawDoc; onBook, when set, hears about each book.
func gather(ctx context.Context, c *spec.Corpus, opts Options, onBook func(bookEvent)) ([]rawDoc, error) {
	src := &c.Source
	switch src.Kind {
	case spec.SourceGutenberg:
		return gatherGutenberg(ctx, c, opts, onBook)
	case spec.SourceDir:
		return gatherDir(c)
	case spec.SourceSynthetic:
		n := src.Documents
		if n <= 0 {
			return nil, fmt.Errorf("corpus %q: synthetic source needs documents > 0", c.Name)
		}
		raws := make([]rawDoc, n)
		for i := range raws {
			d := newSyntheticDoc(src.Seed, i)
			raws[i] = rawDoc{
				id:     fmt.Sprintf("synthetic-%d-%03d", src.Seed, i+1),
				title:  d.title,
				source: fmt.Sprintf("synthetic:seed=%d,doc=%d", src.Seed, i+1),
				synth:  d,
			}
		}
		return raws, nil
	default:
		return nil, fmt.Errorf("corpus %q: unknown source kind %q", c.Name, src.Kind)
	}
}

func gatherGutenberg(ctx context.Context, c *spec.Corpus, opts Options, onBook func(bookEvent)) ([]rawDoc, error) {
	src := &c.Source
	if len(src.IDs) == 0 {
		return nil, fmt.Errorf("corpus %q: gutenberg source has no ids", c.Name)
	}
	dir, err := cacheDir(src, c.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("corpus %q: %w", c.Name, err)
	}
	cache := bookCache{dir: dir}
	f := newFetcher(opts)
	var raws []rawDoc
	seen := map[int]bool{}
	for _, id := range src.IDs {
		if seen[id] {
			continue // listed twice: one document
		}
		seen[id] = true
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev := bookEvent{id: id, url: bookURL(src.Mirror, id)}
		data, err := cache.read(id)
		if err != nil {
			if !errors.Is(err, errNotCached) {
				ev.err = fmt.Errorf("gutenberg book %d: %w", id, err)
			} else if opts.Offline {
				detail := ""
				if err != errNotCached {
					detail = " (" + strings.TrimPrefix(err.Error(), errNotCached.Error()+": ") + ")"
				}
				ev.err = fmt.Errorf("gutenberg book %d: not in the cache %s%s and downloads are off; run `mrqa prepare` first", id, dir, detail)
			} else {
				if err != errNotCached {
					ev.note = strings.TrimPrefix(err.Error(), errNotCached.Error()+": ") + "; downloaded again"
				}
				if opts.Progress != nil {
					fmt.Fprintf(opts.Progress, "gutenberg %d: downloading %s\n", id, ev.url)
				}
				data, err = f.fetch(ctx, ev.url)
				var status statusError
				if errors.As(err, &status) && strings.HasPrefix(status.status, "404") {
					ev.err = fmt.Errorf("gutenberg book %d: %s answered %v: check the id, and that the mirror serves <mirror>/ebooks/<id>.txt.utf-8", id, ev.url, err)
				} else if err != nil {
					ev.err = fmt.Errorf("gutenberg book %d: download failed: %v. %s", id, err, downloadHint(src.Mirror))
				} else if _, err := cache.write(id, data); err != nil {
					ev.err = fmt.Errorf("gutenberg book %d: caching: %w", id, err)
				} else {
					ev.fetched = true
				}
			}
		}
		ev.bytes = len(data)
		if onBook != nil {
			onBook(ev)
		}
		r := rawDoc{id: strconv.Itoa(id), source: "gutenberg:" + strconv.Itoa(id)}
		if ev.err != nil {
			r.err = &bookError{ev.err}
		} else {
			text, title, err := cleanGutenberg(id, data, src.StripBoilerplate)
			r.text, r.title, r.err = text, title, err
		}
		raws = append(raws, r)
	}
	return raws, nil
}

func gatherDir(c *spec.Corpus) ([]rawDoc, error) {
	src := &c.Source
	dir := src.Path
	if dir == "" {
		return nil, fmt.Errorf("corpus %q: dir source needs a path", c.Name)
	}
	if !filepath.IsAbs(dir) && c.BaseDir != "" {
		dir = filepath.Join(c.BaseDir, dir)
	}
	pattern := src.Pattern
	if pattern == "" {
		pattern = "*.txt"
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("corpus %q: dir source: %w", c.Name, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("corpus %q: dir source: %s is not a directory", c.Name, dir)
	}
	matches, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, fmt.Errorf("corpus %q: dir source pattern %q: %w", c.Name, pattern, err)
	}
	sort.Strings(matches)
	var raws []rawDoc
	for _, p := range matches {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("corpus %q: %w", c.Name, err)
		}
		base := filepath.Base(p)
		raws = append(raws, rawDoc{
			id:     strings.TrimSuffix(base, filepath.Ext(base)),
			source: "dir:" + p,
			text:   string(data),
		})
	}
	if len(raws) == 0 {
		return nil, fmt.Errorf("corpus %q: no files in %s match %q", c.Name, dir, pattern)
	}
	return raws, nil
}

// sliced is one document's outcome.
type sliced struct {
	doc  Document
	warn string // non-empty: dropped, and why
	err  error  // the tokenizer failed
}

// finish slices raws in parallel, keeping their order, and applies the
// minimum-documents rule.
func finish(ctx context.Context, c *spec.Corpus, tok tokenizer.Tokenizer, raws []rawDoc, opts Options) ([]Document, []Warning, error) {
	out := sliceAll(ctx, c, tok, raws, opts)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var docs []Document
	var warns []Warning
	ids := map[string]bool{}
	for i, s := range out {
		if s.err != nil {
			return nil, nil, fmt.Errorf("corpus %q: document %s: %w", c.Name, raws[i].id, s.err)
		}
		if s.warn != "" {
			warns = append(warns, Warning{DocumentID: raws[i].id, Msg: s.warn})
			continue
		}
		if ids[s.doc.ID] {
			warns = append(warns, Warning{DocumentID: s.doc.ID, Msg: "another document has the same id (" + s.doc.Source + "); dropped"})
			continue
		}
		ids[s.doc.ID] = true
		docs = append(docs, s.doc)
	}
	if err := Shortfall(c.Name, len(docs), len(raws), max(c.MinDocuments, 1), "min_documents", warns); err != nil {
		return nil, warns, err
	}
	return docs, warns, nil
}

// Shortfall returns nil when have ≥ need, else an error saying how many
// documents of how many read were usable, what needs more (e.g.
// "min_documents", or "24 sessions with assign = \"distinct\"") and why
// the others were dropped. The runtime uses it for assign = "distinct".
func Shortfall(corpus string, have, read, need int, what string, warns []Warning) error {
	if have >= need {
		return nil
	}
	msg := fmt.Sprintf("corpus %q: %d usable documents of %d, need at least %d (%s)", corpus, have, read, need, what)
	if len(warns) > 0 {
		why := make([]string, len(warns))
		for i, w := range warns {
			why[i] = w.String()
		}
		msg += "; dropped: " + strings.Join(why, "; ")
	}
	return errors.New(msg)
}

func sliceAll(ctx context.Context, c *spec.Corpus, tok tokenizer.Tokenizer, raws []rawDoc, opts Options) []sliced {
	out := make([]sliced, len(raws))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(raws))
	var mu sync.Mutex // serialises progress lines
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				out[i] = sliceOne(ctx, c, tok, &raws[i])
				if opts.Progress != nil {
					mu.Lock()
					switch {
					case out[i].err != nil:
						fmt.Fprintf(opts.Progress, "%s: failed: %v\n", raws[i].id, out[i].err)
					case out[i].warn != "":
						fmt.Fprintf(opts.Progress, "%s: %s\n", raws[i].id, out[i].warn)
					default:
						fmt.Fprintf(opts.Progress, "%s: %d tokens (%.1fs)\n", raws[i].id, out[i].doc.Tokens, time.Since(start).Seconds())
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range raws {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func sliceOne(ctx context.Context, c *spec.Corpus, tok tokenizer.Tokenizer, r *rawDoc) sliced {
	if r.err != nil {
		return sliced{warn: r.err.Error()}
	}
	text := r.text
	if r.synth != nil {
		var err error
		text, err = growSynthetic(ctx, tok, r.synth, c)
		if err != nil {
			return sliced{err: err}
		}
	}
	if !utf8.ValidString(text) {
		// Tokenizers work on characters; invalid bytes would not survive a
		// round trip, so they become U+FFFD up front.
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	cut, n, err := slice(ctx, tok, text, c.Tokens, c.Buckets)
	var short *tooShortError
	if errors.As(err, &short) {
		return sliced{warn: short.Error() + "; dropped"}
	}
	var inexact *noExactCutError
	if errors.As(err, &inexact) {
		return sliced{warn: inexact.Error() + "; dropped"}
	}
	if err != nil {
		return sliced{err: err}
	}
	if len(cut) < len(text) {
		// A cut is a substring: copied, it no longer keeps the whole source
		// text (a novel several times longer) alive.
		cut = strings.Clone(cut)
	}
	return sliced{doc: Document{
		ID:     r.id,
		Title:  r.title,
		Text:   cut,
		Tokens: n,
		SHA256: sha256Hex([]byte(cut)),
		Source: r.source,
	}}
}

// syntheticDefaultTokens sizes synthetic documents when the corpus sets no
// token count: the smallest bucket.
const syntheticDefaultTokens = 1 << MinBucketLog2

// growSynthetic generates a synthetic document long enough for the corpus's cut.
func growSynthetic(ctx context.Context, tok tokenizer.Tokenizer, d *syntheticDoc, c *spec.Corpus) (string, error) {
	target := c.Tokens
	if target <= 0 {
		target = syntheticDefaultTokens
	}
	d.growTo(target * bytesPerTokenGuess)
	for {
		text := d.text.String()
		// Counting a prefix is enough: only target tokens are kept.
		ids, whole, err := prefixTokens(ctx, tok, text, target)
		if err != nil {
			return "", err
		}
		if !whole || len(ids) >= target {
			return text, nil
		}
		d.growTo(d.text.Len() + (target-len(ids))*bytesPerTokenGuess + 1024)
	}
}
