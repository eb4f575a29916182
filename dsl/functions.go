package dsl

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// markKind is the type of the cty marks dsl puts on values.
type markKind string

// sensitiveMark marks cty values that must never be printed or written.
const sensitiveMark markKind = "sensitive"

// maxFileSize bounds file(): scenario inputs are prompts and lists, not corpora.
const maxFileSize = 16 << 20

// functions returns the functions scenario expressions may call: a curated
// part of go-cty's stdlib plus env, file and base64; file() reads relative
// paths from dir.
func (l *loader) functions(dir string) map[string]function.Function {
	return map[string]function.Function{
		// strings
		"upper":        stdlib.UpperFunc,
		"lower":        stdlib.LowerFunc,
		"title":        stdlib.TitleFunc,
		"format":       stdlib.FormatFunc,
		"formatlist":   stdlib.FormatListFunc,
		"join":         stdlib.JoinFunc,
		"split":        stdlib.SplitFunc,
		"replace":      stdlib.ReplaceFunc,
		"regex":        stdlib.RegexFunc,
		"regexall":     stdlib.RegexAllFunc,
		"regexreplace": stdlib.RegexReplaceFunc,
		"trim":         stdlib.TrimFunc,
		"trimspace":    stdlib.TrimSpaceFunc,
		"trimprefix":   stdlib.TrimPrefixFunc,
		"trimsuffix":   stdlib.TrimSuffixFunc,
		"chomp":        stdlib.ChompFunc,
		"indent":       stdlib.IndentFunc,
		"substr":       stdlib.SubstrFunc,
		"strlen":       stdlib.StrlenFunc,
		// collections
		"length":     stdlib.LengthFunc,
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"keys":       stdlib.KeysFunc,
		"values":     stdlib.ValuesFunc,
		"merge":      stdlib.MergeFunc,
		"lookup":     stdlib.LookupFunc,
		"element":    stdlib.ElementFunc,
		"index":      stdlib.IndexFunc,
		"slice":      stdlib.SliceFunc,
		"reverse":    stdlib.ReverseListFunc,
		"sort":       stdlib.SortFunc,
		"distinct":   stdlib.DistinctFunc,
		"flatten":    stdlib.FlattenFunc,
		"compact":    stdlib.CompactFunc,
		"coalesce":   stdlib.CoalesceFunc,
		"zipmap":     stdlib.ZipmapFunc,
		"chunklist":  stdlib.ChunklistFunc,
		"range":      stdlib.RangeFunc,
		"setunion":   stdlib.SetUnionFunc,
		"setproduct": stdlib.SetProductFunc,
		// numbers
		"min":      stdlib.MinFunc,
		"max":      stdlib.MaxFunc,
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"pow":      stdlib.PowFunc,
		"log":      stdlib.LogFunc,
		"signum":   stdlib.SignumFunc,
		"parseint": stdlib.ParseIntFunc,
		// encoding
		"jsonencode":   stdlib.JSONEncodeFunc,
		"jsondecode":   stdlib.JSONDecodeFunc,
		"csvdecode":    stdlib.CSVDecodeFunc,
		"base64encode": base64EncodeFunc,
		"base64decode": base64DecodeFunc,
		// conversion
		"tostring": stdlib.MakeToFunc(cty.String),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		// outside world
		"env":  l.envFunc(),
		"file": l.fileFunc(dir),
	}
}

// envFunc is env(name, default): the environment variable, or default when
// it is unset. The result is sensitive: environments hold credentials.
func (l *loader) envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "The value of an environment variable, or default when it is unset.",
		Params: []function.Parameter{
			{Name: "name", Type: cty.String},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.String},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and an optional default")
			}
			// Recorded here, not only where the result lands: a later
			// error (tonumber(env("X"))) may quote the value.
			if v, ok := l.env[args[0].AsString()]; ok {
				l.addSecrets(cty.StringVal(v))
				return cty.StringVal(v).Mark(sensitiveMark), nil
			}
			if len(args) == 2 {
				l.addSecrets(args[1])
				return args[1].Mark(sensitiveMark), nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "environment variable %q is not set and no default was given; write env(%q, \"default\")", args[0].AsString(), args[0].AsString())
		},
	})
}

// fileFunc is file(path): a UTF-8 file's text, a relative path starting at
// dir (the directory of the file that calls it). Every file read is
// recorded (spec.RoleInput), so a recording needs nothing from the disk.
func (l *loader) fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "The contents of a UTF-8 text file; a relative path starts at the directory of the file that calls it.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := l.readFile(p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, function.NewArgErrorf(0, "%s is not UTF-8 text", p)
			}
			if l.opts.FromRecording && strings.Contains(string(b), redactedText) {
				return cty.NilVal, function.NewArgErrorf(0, "the recording of %s has %s in place of a secret the file held, which cannot be restored; keep secrets out of files that file() reads (pass them in a sensitive variable)", p, redactedText)
			}
			l.recordInput(p, b)
			return cty.StringVal(string(b)), nil
		},
	})
}

// readFile reads what file() names: through Options.ReadFile when set,
// else a regular file of at most maxFileSize bytes from the disk.
func (l *loader) readFile(p string) ([]byte, error) {
	if l.opts.ReadFile != nil {
		b, err := l.opts.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", p, err)
		}
		if len(b) > maxFileSize {
			return nil, fmt.Errorf("%s is %d bytes; file() reads at most %d", p, len(b), maxFileSize)
		}
		return b, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %s", p, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is %d bytes; file() reads at most %d", p, st.Size(), maxFileSize)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %s", p, err)
	}
	return b, nil
}

// recordInput notes a file file() read, once per path, for the recording.
func (l *loader) recordInput(path string, b []byte) {
	for _, s := range l.inputs {
		if s.Path == path {
			return
		}
	}
	l.inputs = append(l.inputs, Source{Path: path, Text: b})
}

var base64EncodeFunc = function.New(&function.Spec{
	Description: "Encodes a string's UTF-8 bytes as standard base64.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
	},
})

var base64DecodeFunc = function.New(&function.Spec{
	Description: "Decodes standard base64 into a UTF-8 string.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "invalid base64: %s", err)
		}
		if !utf8.Valid(b) {
			return cty.NilVal, function.NewArgError(0, fmt.Errorf("the decoded bytes are not UTF-8 text"))
		}
		return cty.StringVal(string(b)), nil
	},
})
