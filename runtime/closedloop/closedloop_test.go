package closedloop

import (
	"fmt"
	"strings"
	"testing"
)

// TestSessionRule walks one session through its slots with a given
// sequence of outcomes and checks what each slot sends.
func TestSessionRule(t *testing.T) {
	cases := []struct {
		name     string
		outcomes []bool // outcome of the request each slot sends
		want     string // per slot: what is sent, "+skip" when the question is not asked
	}{
		{"all succeed", []bool{true, true, true}, "open#1 q1 q2"},
		{"opening fails once", []bool{false, true, true}, "open#1 open#2+skip q2"},
		{"opening never succeeds", []bool{false, false, false}, "open#1 open#2+skip open#3+skip"},
		{"a failed question keeps the document", []bool{true, false, true}, "open#1 q1 q2"},
		{"opening succeeds in the last slot", []bool{false, false, true}, "open#1 open#2+skip open#3+skip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s Session
			var got []string
			for turn, ok := range tc.outcomes {
				a := s.Next(turn)
				w := fmt.Sprintf("q%d", turn)
				if a.Opening {
					w = fmt.Sprintf("open#%d", a.Attempt)
				}
				if a.Skipped {
					w += "+skip"
				}
				got = append(got, w)
				s.Done(a, ok)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
}
