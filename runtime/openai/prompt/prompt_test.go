package prompt

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		src  string
		want Template
	}{
		{"{{messages}}<|im_start|>{{role}}\n{{content}}<|im_end|>\n{{end}}<|im_start|>assistant\n", Template{
			Block:  []Item{{Lit: "<|im_start|>"}, {Kind: Role}, {Lit: "\n"}, {Kind: Content}, {Lit: "<|im_end|>\n"}},
			Suffix: "<|im_start|>assistant\n",
		}},
		{"{{ literal braces }} {{messages}}{{content}} {{open{{end}}", Template{
			Prefix: "{{ literal braces }} ",
			Block:  []Item{{Kind: Content}, {Lit: " {{open"}},
		}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.src)
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.src, *got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"no block {{content}}",
		"{{messages}}{{role}}{{end}}",
		"{{messages}}{{content}} {{bogus}}{{end}}",
		"{{content}}{{messages}}{{content}}{{end}}",
		"{{end}}{{messages}}",
		"<s>{{messages}}{{content}} {{ spaced }}{{end}}",
	} {
		if _, err := Parse(src); err == nil {
			t.Errorf("template %q: no error", src)
		}
	}
}
