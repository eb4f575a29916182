package server

import (
	"errors"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// sentinelLoader records whether tiktoken-go's global loader was used.
type sentinelLoader struct{ used bool }

func (l *sentinelLoader) LoadTiktokenBpe(string) (map[string]int, error) {
	l.used = true
	return nil, errors.New("sentinel loader")
}

// TestTokenizerLeavesTiktokenGlobals: building the server's tokenizer must
// not write tiktoken-go's package-level loader (an unsynchronised global:
// two servers starting at once would race on it, and it would change what
// any other tiktoken-go user in the process loads).
func TestTokenizerLeavesTiktokenGlobals(t *testing.T) {
	l := &sentinelLoader{}
	tiktoken.SetBpeLoader(l)
	defer tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
	if _, err := newTokenizer("cl100k_base", 1<<10); err != nil {
		t.Fatal(err)
	}
	// p50k_base is loaded by nobody else, so this goes to the global loader.
	if _, err := tiktoken.GetEncoding("p50k_base"); err == nil || !l.used {
		t.Errorf("the global loader was replaced (err %v, sentinel used %v)", err, l.used)
	}
}
