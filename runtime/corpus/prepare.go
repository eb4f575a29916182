package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Prepare is `mrqa prepare`: for each corpus it fills the Gutenberg cache
// (downloading only what is missing), then cleans and slices every document
// and prints, per book and per document, what was fetched, what came from
// the cache, and what failed and why. Failures of one book do not stop the
// others; the returned error summarises them. Corpora shared by several
// scenarios should be passed once.
func Prepare(ctx context.Context, corpora []*spec.Corpus, opts Options, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	var failed []string
	for _, c := range corpora {
		if c == nil {
			continue
		}
		if err := prepareOne(ctx, c, opts, out); err != nil {
			fmt.Fprintf(out, "corpus %q: FAILED: %v\n", c.Name, err)
			failed = append(failed, c.Name)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("prepare: %d of %d corpora failed: %q", len(failed), len(corpora), failed)
	}
	return nil
}

func prepareOne(ctx context.Context, c *spec.Corpus, opts Options, out io.Writer) error {
	fmt.Fprintf(out, "corpus %q (%s source, tokenizer %s, %s)\n", c.Name, c.Source.Kind, tokenizerName(c), cutName(c))
	tok, err := loadTokenizer(c, opts)
	if err != nil {
		return err
	}
	var fetched, cached, bookErrs int
	raws, err := gather(ctx, c, opts, func(ev bookEvent) {
		switch {
		case ev.err != nil:
			bookErrs++
			fmt.Fprintf(out, "  book %d: FAILED: %v\n", ev.id, ev.err)
		case ev.fetched:
			fetched++
			fmt.Fprintf(out, "  book %d: fetched %s (%d bytes)", ev.id, ev.url, ev.bytes)
			if ev.note != "" {
				fmt.Fprintf(out, "; %s", ev.note)
			}
			fmt.Fprintln(out)
		default:
			cached++
			fmt.Fprintf(out, "  book %d: skipped download, in the cache (%d bytes)\n", ev.id, ev.bytes)
		}
	})
	if err != nil {
		return err
	}
	if c.Source.Kind == spec.SourceGutenberg {
		dir, _ := cacheDir(&c.Source, c.BaseDir)
		fmt.Fprintf(out, "  %d fetched, %d already cached, %d failed (cache %s)\n", fetched, cached, bookErrs, dir)
	}
	var usable []rawDoc
	for _, r := range raws {
		if r.err == nil {
			usable = append(usable, r)
			continue
		}
		// Cleaning failures (no markers) had no download event: show them.
		if !isBookEventErr(r.err) {
			fmt.Fprintf(out, "  book %s: FAILED: %v\n", r.id, r.err)
			bookErrs++
		}
	}
	if len(usable) == 0 {
		return fmt.Errorf("no usable documents (%d failed)", bookErrs)
	}
	docs, warns, err := finish(ctx, c, tok, usable, opts)
	for _, w := range warns {
		fmt.Fprintf(out, "  %s: dropped: %s\n", w.DocumentID, w.Msg)
	}
	for _, d := range docs {
		title := ""
		if d.Title != "" {
			title = " " + fmt.Sprintf("%q", d.Title)
		}
		fmt.Fprintf(out, "  %s%s: %d tokens, sha256 %s\n", d.ID, title, d.Tokens, d.SHA256)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  %d documents ready\n", len(docs))
	if bookErrs > 0 {
		return fmt.Errorf("%d of %d books failed", bookErrs, len(raws))
	}
	return nil
}

// isBookEventErr tells download/cache errors (already printed) from
// cleaning errors.
func isBookEventErr(err error) bool {
	var be *bookError
	return errors.As(err, &be)
}

// bookError marks an error already reported as a book event.
type bookError struct{ err error }

func (e *bookError) Error() string { return e.err.Error() }
func (e *bookError) Unwrap() error { return e.err }

func tokenizerName(c *spec.Corpus) string {
	if c.Tokenizer == "" {
		return "cl100k_base"
	}
	return c.Tokenizer
}

func cutName(c *spec.Corpus) string {
	switch {
	case c.Tokens > 0:
		return fmt.Sprintf("cut to %d tokens", c.Tokens)
	case c.Buckets:
		return "cut to power-of-two buckets"
	default:
		return "whole documents"
	}
}
