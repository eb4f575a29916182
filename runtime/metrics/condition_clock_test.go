package metrics

import (
	"errors"
	"strings"
	"testing"
)

// A condition's outcome depends on the metrics alone: functions that read
// the clock or the calendar are refused where they are written.
func TestCompileRejectsClockFunctions(t *testing.T) {
	tests := []struct {
		text   string
		scope  Scope
		offset int
		fn     string
	}{
		{"ttft_p95 <= 2s && now().Year() > 2000", ScopePoint, 18, "now"},
		{"now().Unix() % 2 == 0", ScopePoint, 0, "now"},
		{`ttft_p95 <= 2s || date("2030-01-01") > date("2020-01-01")`, ScopePoint, 18, "date"},
		{`error_rate < 0.1 && timezone("UTC").String() == "UTC"`, ScopePoint, 20, "timezone"},
		{"max_sessions >= 12 && now().Hour() < 12", ScopeSweep, 22, "now"},
		{"all([1, 2], {now().Unix() > #}) && errors == 0", ScopePoint, 13, "now"},
		{"ttft_p95 <= 2s && now(timezone(\"UTC\")).Year() > 0", ScopePoint, 18, "now"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := Compile(tt.text, tt.scope)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) = %v, want a CompileError", tt.text, err)
			}
			if !strings.HasPrefix(ce.Msg, tt.fn+"() ") || !strings.Contains(ce.Msg, "clock") {
				t.Errorf("message %q does not refuse %s()", ce.Msg, tt.fn)
			}
			if ce.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%q)", ce.Offset, tt.offset, ce.Msg)
			}
		})
	}
}
