package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// gpt2Pattern is the split regex the ByteLevel pre-tokenizer applies when its
// use_regex is true (GPT-2 and its descendants).
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// hfFile is the part of a Hugging Face tokenizer.json that matters here.
type hfFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Decoder      json.RawMessage `json:"decoder"`
	Model        struct {
		Type                    string            `json:"type"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
		ByteFallback            bool              `json:"byte_fallback"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	} `json:"model"`
}

// hfComponent is a normalizer, pre-tokenizer or decoder entry.
type hfComponent struct {
	Type           string            `json:"type"`
	AddPrefixSpace bool              `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Pattern        map[string]string `json:"pattern"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	PreTokenizers  []hfComponent     `json:"pretokenizers"`
	Normalizers    []hfComponent     `json:"normalizers"`
}

// LoadHF loads a Hugging Face tokenizer.json whose model is a byte-level BPE
// (GPT-2, Qwen2/2.5/3, Llama 3 style). The BPE runs on tiktoken-go's core with
// ranks equal to token ids, which matches the Hugging Face merge order for
// these vocabularies; LoadHF checks that the merges are in id order and
// refuses a file where they are not. Added tokens are recognised in the input
// as single tokens, as the Hugging Face library does; no BOS is added.
func LoadHF(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer hf:%s: %w", path, err)
	}
	name := HFPrefix + path
	t, err := parseHF(name, data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", name, err)
	}
	return t, nil
}

func parseHF(name string, data []byte) (Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parsing tokenizer.json: %w", err)
	}
	m := f.Model
	if m.Type == "" && m.Vocab != nil && m.Merges != nil {
		m.Type = "BPE" // older files omit the type
	}
	if m.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not supported (only byte-level BPE)", m.Type)
	}
	if m.ByteFallback {
		return nil, fmt.Errorf("BPE with byte_fallback (SentencePiece style) is not supported (only byte-level BPE)")
	}
	if (m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "") || (m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "") {
		return nil, fmt.Errorf("BPE with subword prefix/suffix is not supported (only byte-level BPE)")
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return nil, err
	}
	pattern, prefixSpace, err := hfPreTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	normalize, err := hfNormalizer(f.Normalizer)
	if err != nil {
		return nil, err
	}

	// Added tokens are split out of the text first and keep their own id; a
	// vocabulary entry with the same id is left out so that tiktoken's
	// decoder map stays one-to-one.
	special := map[string]int{}
	added := map[int]bool{}
	for _, at := range f.AddedTokens {
		if at.Content != "" {
			special[at.Content] = at.ID
			added[at.ID] = true
		}
	}
	unbyte := byteLevelDecoding()
	ranks := make(map[string]int, len(m.Vocab))
	for tok, id := range m.Vocab {
		if added[id] {
			continue
		}
		raw, ok := fromByteLevel(tok, unbyte)
		if !ok {
			return nil, fmt.Errorf("vocabulary entry %q (id %d) is not byte-level encoded", tok, id)
		}
		ranks[raw] = id
	}
	if err := checkMergeOrder(m.Merges, m.Vocab); err != nil {
		return nil, err
	}
	var prepare func(string) string
	if normalize != nil || prefixSpace {
		prepare = func(s string) string {
			if normalize != nil {
				s = normalize(s)
			}
			if prefixSpace && s != "" && !strings.HasPrefix(s, " ") {
				s = " " + s
			}
			return s
		}
	}
	return newBPE(name, ranks, special, pattern, true, prepare)
}

func checkDecoder(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var d hfComponent
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("parsing decoder: %w", err)
	}
	if d.Type != "ByteLevel" {
		return fmt.Errorf("decoder type %q is not supported (only ByteLevel)", d.Type)
	}
	return nil
}

// hfPreTokenizer returns the split regex of a supported pre-tokenizer: a
// ByteLevel with use_regex, or a Sequence of one isolating Split and a
// ByteLevel without use_regex (Qwen2, Llama 3).
func hfPreTokenizer(raw json.RawMessage) (pattern string, prefixSpace bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, fmt.Errorf("no pre_tokenizer (only byte-level BPE is supported)")
	}
	var p hfComponent
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", false, fmt.Errorf("parsing pre_tokenizer: %w", err)
	}
	switch p.Type {
	case "ByteLevel":
		if p.UseRegex != nil && !*p.UseRegex {
			return "", false, fmt.Errorf("ByteLevel pre_tokenizer without use_regex and without a Split is not supported")
		}
		return gpt2Pattern, p.AddPrefixSpace, nil
	case "Sequence":
		var split *hfComponent
		var byteLevel *hfComponent
		for i := range p.PreTokenizers {
			c := &p.PreTokenizers[i]
			switch {
			case c.Type == "Split" && split == nil:
				split = c
			case c.Type == "ByteLevel" && byteLevel == nil:
				byteLevel = c
			default:
				return "", false, fmt.Errorf("pre_tokenizer Sequence with %q is not supported (only Split + ByteLevel)", c.Type)
			}
		}
		if byteLevel == nil {
			return "", false, fmt.Errorf("pre_tokenizer Sequence without ByteLevel is not supported (only byte-level BPE)")
		}
		if split == nil {
			return hfPreTokenizer(mustJSON(byteLevel))
		}
		if byteLevel.UseRegex == nil || *byteLevel.UseRegex {
			return "", false, fmt.Errorf("pre_tokenizer Split followed by a ByteLevel with use_regex is not supported")
		}
		if split.Behavior != "Isolated" || split.Invert {
			return "", false, fmt.Errorf("pre_tokenizer Split with behavior %q, invert %v is not supported (only Isolated)", split.Behavior, split.Invert)
		}
		if re, ok := split.Pattern["Regex"]; ok {
			return re, byteLevel.AddPrefixSpace, nil
		}
		if s, ok := split.Pattern["String"]; ok {
			return regexp.QuoteMeta(s), byteLevel.AddPrefixSpace, nil
		}
		return "", false, fmt.Errorf("pre_tokenizer Split without a pattern")
	default:
		return "", false, fmt.Errorf("pre_tokenizer type %q is not supported (only byte-level BPE: ByteLevel, or Split + ByteLevel)", p.Type)
	}
}

func mustJSON(c *hfComponent) json.RawMessage {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of strings, bools and maps always marshals
	}
	return b
}

// hfNormalizer returns the Unicode normalisation a tokenizer.json asks for,
// nil for none.
func hfNormalizer(raw json.RawMessage) (func(string) string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var n hfComponent
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("parsing normalizer: %w", err)
	}
	forms := []hfComponent{n}
	if n.Type == "Sequence" {
		forms = n.Normalizers
	}
	var fs []norm.Form
	for _, c := range forms {
		switch c.Type {
		case "NFC":
			fs = append(fs, norm.NFC)
		case "NFD":
			fs = append(fs, norm.NFD)
		case "NFKC":
			fs = append(fs, norm.NFKC)
		case "NFKD":
			fs = append(fs, norm.NFKD)
		default:
			return nil, fmt.Errorf("normalizer type %q is not supported (only NFC, NFD, NFKC, NFKD)", c.Type)
		}
	}
	if len(fs) == 0 {
		return nil, nil
	}
	return func(s string) string {
		for _, f := range fs {
			s = f.String(s)
		}
		return s
	}, nil
}

// checkMergeOrder verifies that each merge produces a token whose id is no
// lower than the ids of all earlier merges' results (Llama 3 lists several
// merges per token, converted from tiktoken ranks): then merging by the
// lowest resulting id (tiktoken) equals merging by merge priority (Hugging
// Face).
func checkMergeOrder(merges []json.RawMessage, vocab map[string]int) error {
	last := -1
	for i, raw := range merges {
		var a, b string
		var pair []string
		if err := json.Unmarshal(raw, &pair); err == nil {
			if len(pair) != 2 {
				return fmt.Errorf("merge %d: want two parts, got %d", i, len(pair))
			}
			a, b = pair[0], pair[1]
		} else {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("merge %d: %w", i, err)
			}
			var ok bool
			a, b, ok = strings.Cut(s, " ")
			if !ok {
				return fmt.Errorf("merge %d %q: no space between the parts", i, s)
			}
		}
		id, ok := vocab[a+b]
		if !ok {
			return fmt.Errorf("merge %d (%q %q): result not in the vocabulary", i, a, b)
		}
		if id < last {
			return fmt.Errorf("merge %d (%q %q) gives id %d after a merge that gave id %d: merges are not in id order, which this BPE needs", i, a, b, id, last)
		}
		last = id
	}
	return nil
}

// byteLevelDecoding maps the printable stand-ins of GPT-2's byte-level
// alphabet back to bytes: printable Latin-1 bytes stand for themselves, the
// other bytes are shifted to U+0100 and up in byte order.
func byteLevelDecoding() map[rune]byte {
	m := make(map[rune]byte, 256)
	next := rune(256)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[rune(b)] = byte(b)
		} else {
			m[next] = byte(b)
			next++
		}
	}
	return m
}

func fromByteLevel(tok string, unbyte map[rune]byte) (string, bool) {
	out := make([]byte, 0, len(tok))
	for _, r := range tok {
		b, ok := unbyte[r]
		if !ok {
			return "", false
		}
		out = append(out, b)
	}
	return string(out), true
}
