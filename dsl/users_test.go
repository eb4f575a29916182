package dsl

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// usersFile is a scenario around a users block body.
func usersFile(body string) string {
	return `target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
corpus "c" {
  source "synthetic" { documents = 16 }
}
script "s" {
  opening   = "Summarize.\n\n${document}"
  questions = ["a", "b", "c"]
}
scenario "x" {
  target = target.t
  corpus = corpus.c
  script = script.s
  users {
` + body + `
  }
  slo "ttft" { condition = "ttft_p95 <= 2s" }
}
`
}

func TestUsersBlock(t *testing.T) {
	tests := []struct {
		name string
		body string
		want spec.Users
	}{
		{"defaults", `rate = [10, 20]
    sessions = 100
    max_active = 50`,
			spec.Users{Arrival: spec.ArrivalPoisson, Burstiness: 1, Rates: []float64{10, 20}, Sessions: 100, MaxActive: 50,
				Think: spec.Think{Distribution: spec.ThinkConstant}}},
		{"gamma, log-normal think time", `arrival = "gamma"
    burstiness = 0.5
    rate = [1.5]
    duration = "10m"
    warmup = "2m"
    max_active = 400
    think_time {
      distribution = "lognormal"
      mean = "15s"
    }`,
			spec.Users{Arrival: spec.ArrivalGamma, Burstiness: 0.5, Rates: []float64{1.5}, Duration: 10 * time.Minute,
				Warmup: 2 * time.Minute, MaxActive: 400,
				Think: spec.Think{Distribution: spec.ThinkLogNormal, Mean: 15 * time.Second, Sigma: 1}}},
		{"exponential by default", `rate = [60]
    sessions = 10
    max_active = 10
    think_time { mean = "20s" }`,
			spec.Users{Arrival: spec.ArrivalPoisson, Burstiness: 1, Rates: []float64{60}, Sessions: 10, MaxActive: 10,
				Think: spec.Think{Distribution: spec.ThinkExponential, Mean: 20 * time.Second}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustLoad(t, usersFile(tt.body), Options{})
			sc := f.Scenarios[0]
			if sc.Users == nil || !reflect.DeepEqual(*sc.Users, tt.want) {
				t.Fatalf("users = %+v\nwant    %+v", sc.Users, tt.want)
			}
			if len(sc.Grid.Concurrent) != 0 || len(sc.Grid.Sequential) != 0 {
				t.Errorf("an open-loop scenario has a grid: %+v", sc.Grid)
			}
		})
	}
}

func TestUsersErrors(t *testing.T) {
	tests := []struct {
		name, body, summary string
	}{
		{"both bounds", `rate = [1]
    sessions = 3
    duration = "1m"
    max_active = 5`, "Both sessions and duration"},
		{"no bound", `rate = [1]
    max_active = 5`, "Open-ended arrivals"},
		{"zero rate", `rate = [0, 1]
    sessions = 3
    max_active = 5`, "Invalid rate"},
		{"repeated rate", `rate = [2, 2]
    sessions = 3
    max_active = 5`, "Duplicate rate"},
		{"empty rate", `rate = []
    sessions = 3
    max_active = 5`, "Empty rate list"},
		{"no max_active", `rate = [1]
    sessions = 3`, "Missing required argument"},
		{"burstiness on poisson", `rate = [1]
    burstiness = 2
    sessions = 3
    max_active = 5`, "Burstiness without gamma arrivals"},
		{"negative burstiness", `rate = [1]
    arrival = "gamma"
    burstiness = -1
    sessions = 3
    max_active = 5`, "Invalid value"},
		{"sigma on exponential", `rate = [1]
    sessions = 3
    max_active = 5
    think_time {
      mean = "5s"
      sigma = 1
    }`, "Sigma without a log-normal"},
		{"warm-up too long", `rate = [1]
    duration = "1m"
    warmup = "1m"
    max_active = 5`, "Warm-up as long as the run"},
		{"too many sessions", `rate = [100000]
    duration = "24h"
    max_active = 5`, "Too many sessions in one point"},
		{"unknown arrival", `rate = [1]
    arrival = "uniform"
    sessions = 3
    max_active = 5`, "Invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := loadErrors(t, usersFile(tt.body), Options{})
			if len(errs) != 1 || !strings.Contains(errs[0].Summary, tt.summary) || errs[0].Subject == nil {
				t.Fatalf("errors %v; want one %q with a position", errs, tt.summary)
			}
		})
	}
}

func TestUsersPlan(t *testing.T) {
	f := mustLoad(t, usersFile(`arrival = "gamma"
    burstiness = 0.5
    rate = [30, 60]
    duration = "10m"
    warmup = "1m"
    max_active = 400
    think_time { mean = "15s" }`), Options{})
	want := "  users   gamma (burstiness 0.5) arrivals at [30, 60] a minute, for 10m0s a point, warm-up 1m0s, at most 400 active, think exponential, mean 15s (3 rounds + opening, assign distinct, seed 0)\n"
	if got := planText(f); !strings.Contains(got, want) || strings.Contains(got, "  grid ") {
		t.Errorf("plan:\n%s\nwant the line\n%s", got, want)
	}
}
