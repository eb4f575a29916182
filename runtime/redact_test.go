package runtime

import "testing"

func TestRedactor(t *testing.T) {
	secrets := []string{"sk-Vq7Jm2Xc9Lz4Pw", "user:sk-Vq7Jm2Xc9Lz4Pw", "ab"}
	for _, tc := range []struct{ in, want string }{
		{"key sk-Vq7Jm2Xc9Lz4Pw here", "key (sensitive) here"},
		{"pair user:sk-Vq7Jm2Xc9Lz4Pw", "pair (sensitive)"},
		{"short ab stays", "short ab stays"},
		// A message cut before it got here: the start of a secret goes too.
		{"echo sk-Vq7Jm2…", "echo (sensitive)…"},
		{"echo user:sk…", "echo (sensitive)…"},
		{"a sk-Vq7…; b sk-Vq7Jm…", "a (sensitive)…; b (sensitive)…"},
		{"too short to tell sk…", "too short to tell sk…"},
		{"no cut sk-Vq7Jm", "no cut sk-Vq7Jm"},
	} {
		if got := Redact(tc.in, secrets); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := NewRedactor(secrets, "...").Apply("k=sk-Vq7Jm2Xc9Lz4Pw"); got != "k=..." {
		t.Errorf("placeholder: %q", got)
	}
	if got := NewRedactor(nil, "...").Apply("sk-Vq7…"); got != "sk-Vq7…" {
		t.Errorf("no secrets: %q", got)
	}
}
