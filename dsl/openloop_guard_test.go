package dsl

import (
	"strings"
	"testing"
)

// Inputs validate accepts that exec then fails on, or that make a
// closed-loop figure judge an open-loop run (and the other way round).
func TestUsersInputsRefusedAtLoad(t *testing.T) {
	base := `rate = [4]
    duration = "10m"
    max_active = 5`
	tests := []struct{ name, src string }{
		{"expect on max_sessions in a users scenario (always 0)",
			strings.Replace(usersFile(base), "  users {", "  expect = \"max_sessions <= 3\"\n  users {", 1)},
		{"expect on best_concurrent in a users scenario",
			strings.Replace(usersFile(base), "  users {", "  expect = \"best_concurrent == 0\"\n  users {", 1)},
		{"rate 1e-9 with sessions: the second arrival overflows time.Duration", usersFile(`rate = [1e-9]
    sessions = 3
    max_active = 5`)},
		{"burstiness 1e-9: gaps underflow to 0, exec plans > 1e6 sessions", usersFile(`rate = [4]
    arrival = "gamma"
    burstiness = 1e-9
    duration = "10m"
    max_active = 5`)},
		{"extend to max_rate past the 1e6-session cap", strings.Replace(usersFile(`rate = [100000]
    duration = "1m"
    max_active = 5`), "  slo \"ttft\"", "  search \"frontier\" {\n    extend = true\n    max_rate = 1e9\n  }\n  slo \"ttft\"", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := loadErrors(t, tt.src, Options{})
			if len(errs) == 0 {
				t.Errorf("accepted; want an error with a position")
			}
		})
	}
}
