package corpus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mrqa-dev/mrqa/internal/atomicfile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// DefaultMirror is where Gutenberg books come from unless a source names a mirror.
const DefaultMirror = "https://www.gutenberg.org"

// UserAgent identifies mrqa to Project Gutenberg and mirrors.
const UserAgent = "mrqa/1 (LLM multi-round QA benchmark; +https://github.com/mrqa-dev/mrqa)"

// Defaults of the download policy.
const (
	defaultAttempts = 4
	defaultBackoff  = time.Second
)

// bookURL is the plain-text UTF-8 edition of book id on mirror.
func bookURL(mirror string, id int) string {
	if mirror == "" {
		mirror = DefaultMirror
	}
	return strings.TrimRight(mirror, "/") + "/ebooks/" + strconv.Itoa(id) + ".txt.utf-8"
}

// cacheDir returns the directory holding downloaded books for src.
func cacheDir(src *spec.Source, baseDir string) (string, error) {
	if src.CacheDir != "" {
		if filepath.IsAbs(src.CacheDir) || baseDir == "" {
			return src.CacheDir, nil
		}
		return filepath.Join(baseDir, src.CacheDir), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache_dir set and no user cache directory: %w", err)
	}
	return filepath.Join(d, "mrqa", "gutenberg"), nil
}

// bookCache is the on-disk cache of raw Gutenberg files: <id>.txt with its
// hex sha256 in <id>.txt.sha256. Both are written to a temporary file and
// renamed into place, so an interrupted or failed download leaves no entry.
type bookCache struct{ dir string }

func (c bookCache) path(id int) string { return filepath.Join(c.dir, strconv.Itoa(id)+".txt") }

// errNotCached says a book is absent from the cache (or its entry is damaged).
var errNotCached = errors.New("not in the cache")

// read returns the cached raw file of id after checking its sha256.
func (c bookCache) read(id int) ([]byte, error) {
	p := c.path(id)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNotCached
	}
	if err != nil {
		return nil, fmt.Errorf("reading cached %s: %w", p, err)
	}
	sum, err := os.ReadFile(p + ".sha256")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no .sha256", errNotCached, p)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s.sha256: %w", p, err)
	}
	want, _, _ := strings.Cut(strings.TrimSpace(string(sum)), " ")
	if got := sha256Hex(data); got != want {
		return nil, fmt.Errorf("%w: %s has sha256 %s, its .sha256 says %s", errNotCached, p, got, want)
	}
	return data, nil
}

// write stores data for id atomically and returns its sha256.
func (c bookCache) write(id int, data []byte) (string, error) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", fmt.Errorf("creating cache dir: %w", err)
	}
	sum := sha256Hex(data)
	p := c.path(id)
	sweepStalePartials(p)
	// The sidecar goes last: a book counts as cached only when both exist
	// and agree, so a crash between the renames leaves no valid entry.
	if err := writeAtomic(p, data); err != nil {
		return "", err
	}
	if err := writeAtomic(p+".sha256", []byte(sum+"  "+filepath.Base(p)+"\n")); err != nil {
		return "", err
	}
	return sum, nil
}

// stalePartialAge is how old a temporary file must be before it counts as
// left behind by a killed process rather than being written by a live one.
const stalePartialAge = time.Hour

// sweepStalePartials removes the temporary files of path and its sidecar
// that a process killed mid-write left behind.
func sweepStalePartials(path string) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for _, pat := range []string{"." + base + ".partial-*", "." + base + ".sha256.partial-*"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > stalePartialAge {
				os.Remove(m) // best effort: a leftover only costs disk space
			}
		}
	}
}

func writeAtomic(path string, data []byte) error {
	// No fsync: after a crash a short file fails the sha256 check and is
	// fetched again, which is cheaper than syncing every book. The pattern
	// is the one sweepStalePartials looks for.
	o := atomicfile.Options{Pattern: "." + filepath.Base(path) + ".partial-*"}
	if err := atomicfile.WriteBytes(path, data, o); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fetcher downloads books with retries.
type fetcher struct {
	client   *http.Client
	attempts int
	backoff  time.Duration
	sleep    func(ctx context.Context, d time.Duration) error
	progress io.Writer
	// unreachable is set after a book failed with no answer at all.
	unreachable bool
}

func newFetcher(opts Options) *fetcher {
	f := &fetcher{client: opts.HTTPClient, attempts: opts.Attempts, backoff: opts.Backoff, sleep: opts.Sleep, progress: opts.Progress}
	if f.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout = 15 * time.Second
		tr.ResponseHeaderTimeout = 30 * time.Second
		f.client = &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	}
	if f.attempts <= 0 {
		f.attempts = defaultAttempts
	}
	if f.backoff <= 0 {
		f.backoff = defaultBackoff
	}
	if f.sleep == nil {
		f.sleep = sleepCtx
	}
	return f
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// permanentError is a failure that retrying will not fix (404 and friends).
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// fetch downloads url, retrying transient failures with doubling backoff.
// Once a book has failed without any answer from the server (no network,
// unknown host), later books get one attempt each, so a machine without
// network reports every book quickly instead of backing off for each.
func (f *fetcher) fetch(ctx context.Context, url string) ([]byte, error) {
	var last error
	delay := f.backoff
	attempts := f.attempts
	if f.unreachable {
		attempts = 1
	}
	answered := false
	for attempt := 1; attempt <= attempts; attempt++ {
		data, err := f.get(ctx, url)
		if err == nil {
			f.unreachable = false
			return data, nil
		}
		last = err
		var perm permanentError
		var status statusError
		if errors.As(err, &status) || strings.Contains(err.Error(), "truncated download") {
			answered = true
		}
		if errors.As(err, &perm) || ctx.Err() != nil || attempt == attempts {
			break
		}
		if f.progress != nil {
			fmt.Fprintf(f.progress, "  %s: attempt %d failed (%v); retrying in %s\n", url, attempt, err, delay)
		}
		if err := f.sleep(ctx, delay); err != nil {
			return nil, err
		}
		delay *= 2
	}
	if !answered {
		f.unreachable = true
	}
	return nil, last
}

// statusError is an HTTP error status: the server answered.
type statusError struct{ status string }

func (e statusError) Error() string { return "HTTP " + e.status }

func (f *fetcher) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, permanentError{err}
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) && dns.IsNotFound {
			return nil, permanentError{err} // a misspelt mirror stays misspelt
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		err := statusError{resp.Status}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, err
		}
		return nil, permanentError{err}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if resp.ContentLength > 0 {
			return nil, fmt.Errorf("truncated download: %d of %d bytes: %w", len(data), resp.ContentLength, err)
		}
		return nil, fmt.Errorf("reading body after %d bytes: %w", len(data), err)
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, fmt.Errorf("truncated download: %d of %d bytes", len(data), resp.ContentLength)
	}
	if len(data) == 0 {
		return nil, errors.New("empty response")
	}
	if looksLikeHTML(data) {
		// A mirror's error or login page answered 200: caching it would fail
		// every later run until the entry was deleted by hand.
		return nil, permanentError{fmt.Errorf("the server answered with an HTML page (%s), not the book's plain text", resp.Header.Get("Content-Type"))}
	}
	return data, nil
}

// looksLikeHTML reports whether a download starts like an HTML document
// rather than a plain-text book.
func looksLikeHTML(data []byte) bool {
	head := bytes.TrimLeft(bytes.TrimPrefix(data[:min(len(data), 512)], []byte("\uFEFF")), " \t\r\n")
	lower := bytes.ToLower(head)
	return bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html"))
}

// downloadHint is appended to download failures so a user without access to
// gutenberg.org knows the two ways around it.
func downloadHint(mirror string) string {
	if mirror == "" {
		mirror = DefaultMirror
	}
	mirror = strings.TrimRight(mirror, "/")
	return fmt.Sprintf("If %s cannot be reached from here, set mirror = \"https://your-mirror\" "+
		"in the source \"gutenberg\" block, or put the texts in a folder and use "+
		"source \"dir\" { path = \"...\" } instead", mirror)
}

// Start and end markers of the Project Gutenberg boilerplate, old and new.
var (
	startMarker = regexp.MustCompile(`(?i)^\s*\*{3}\s*START OF (THE |THIS )?PROJECT GUTENBERG`)
	// Pre-2000s files end the "small print" header with *END*THE SMALL PRINT.
	smallPrintEnd = regexp.MustCompile(`(?i)^\s*\*END\*?\s*THE SMALL PRINT`)
	endMarker     = regexp.MustCompile(`(?i)^\s*(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG|End of (the |this )?Project Gutenberg'?s?\b|\*\*\*\s*END OF PROJECT GUTENBERG)`)
	titleLine     = regexp.MustCompile(`^Title:\s*(.*)$`)
)

// cleanGutenberg removes the BOM, turns CRLF into LF and, when strip is set,
// cuts the text between the START and END markers. It returns the title
// from the header's Title: line ("" when absent).
func cleanGutenberg(id int, raw []byte, strip bool) (text, title string, err error) {
	s := string(raw)
	title = findTitle(s)
	if !strip {
		return s, title, nil
	}
	s = strings.TrimPrefix(s, "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n")

	lines := strings.SplitAfter(s, "\n")
	start, end := -1, -1
	for i, l := range lines {
		if startMarker.MatchString(l) {
			start = i
			break
		}
	}
	if start < 0 {
		for i, l := range lines {
			if smallPrintEnd.MatchString(l) {
				start = i
				break
			}
		}
	} else {
		// Some old files put the small print after the START line.
		for i := start + 1; i < len(lines) && i < start+400; i++ {
			if smallPrintEnd.MatchString(lines[i]) {
				start = i
				break
			}
		}
	}
	if start < 0 {
		return "", title, fmt.Errorf("gutenberg book %d: no \"*** START OF THE PROJECT GUTENBERG EBOOK\" marker; "+
			"set strip_boilerplate = false to keep the text as is", id)
	}
	for i := start + 1; i < len(lines); i++ {
		if endMarker.MatchString(lines[i]) {
			end = i
			break
		}
	}
	if end < 0 {
		return "", title, fmt.Errorf("gutenberg book %d: no \"*** END OF THE PROJECT GUTENBERG EBOOK\" marker; "+
			"set strip_boilerplate = false to keep the text as is", id)
	}
	body := strings.TrimSpace(strings.Join(lines[start+1:end], ""))
	if body == "" {
		return "", title, fmt.Errorf("gutenberg book %d: nothing between the START and END markers", id)
	}
	return body + "\n", title, nil
}

// findTitle reads the Title: line of the header, with indented continuation lines.
func findTitle(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var title []string
	for n := 0; sc.Scan() && n < 300; n++ {
		l := strings.TrimRight(strings.TrimPrefix(sc.Text(), "\ufeff"), "\r")
		if title != nil {
			if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
				if t := strings.TrimSpace(l); t != "" {
					title = append(title, t)
					continue
				}
			}
			break
		}
		if m := titleLine.FindStringSubmatch(l); m != nil {
			title = []string{strings.TrimSpace(m[1])}
		}
		if startMarker.MatchString(l) {
			break
		}
	}
	return strings.Join(title, " ")
}
