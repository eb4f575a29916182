package msgcheck

import "testing"

func TestRepeated(t *testing.T) {
	tests := []struct {
		msg, want string
	}{
		{"reset prefix cache: reset prefix cache: Post \"http://x\": EOF", "reset prefix cache: reset prefix cache:"},
		{"preflight: Preflight: no", "preflight: Preflight:"},
		{`target "t": "target t": boom`, `target "t": "target t":`},
		// A label that heads two parts, apart.
		{"metrics: field ttft_p95: metrics: seconds 1: bad", "metrics:"},
		{"a: b: a: b", "a:"},
		// Different parts; a label that ends the message is not heading.
		{`target "t": preflight: GET http://h/v1/models: http_404: not found`, ""},
		{"results: out/v/results.json: metrics: field ttft_p95: x", ""},
		{`warm: GET http://h/v1/models: EOF`, ""},
		{"read: tcp: EOF: closed: EOF", ""},
		{`t: target "t": preflight: x`, ""},
		{"no colon here", ""},
		{": : ", ""},
	}
	for _, tt := range tests {
		if got := Repeated(tt.msg); got != tt.want {
			t.Errorf("Repeated(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
