package runtime

import (
	"fmt"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/openloop"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// OpenPoint is an open-loop point's plan: its sessions in arrival order.
type OpenPoint struct {
	Rate      float64 // sessions per minute
	Rounds    int
	MaxActive int // 0: no bound
	Sessions  []OpenSession
}

// OpenSession is a session of an open-loop point: who it is, its
// document, when it arrives and how long it thinks before each follow-up.
type OpenSession struct {
	Session // Worker 0, Slot its index in arrival order, Label u<index+1>
	Arrival time.Duration
	Think   []time.Duration
}

// Requests is the number of turns the point plans, dropped ones included.
func (p *OpenPoint) Requests() int { return len(p.Sessions) * (p.Rounds + 1) }

// PlanOpenPoint draws an open-loop point at rate: the seeded schedule of
// package openloop, and a document per session that depends on the seed
// and the session's index only, never on the rate. With "distinct" the
// sessions go through a seeded permutation of the corpus, so a document
// comes back only after every other one has been read; with "random" each
// session draws with replacement.
func PlanOpenPoint(sc *spec.Scenario, docs []corpus.Document, rate float64) (*OpenPoint, error) {
	if len(docs) == 0 {
		return nil, fmt.Errorf("corpus %q has no documents", sc.Corpus.Name)
	}
	sched, err := openloop.Schedule(sc.Users, rate, sc.Rounds, sc.Seed)
	if err != nil {
		return nil, err
	}
	var perm []int
	if sc.Assign != spec.AssignRandom {
		perm = make([]int, len(docs))
		for i := range perm {
			perm[i] = i
		}
		for i := len(perm) - 1; i > 0; i-- {
			j := int(mix(sc.Seed, -1, int64(i)) % uint64(i+1))
			perm[i], perm[j] = perm[j], perm[i]
		}
	}
	p := &OpenPoint{Rate: rate, Rounds: sc.Rounds, MaxActive: sc.Users.MaxActive, Sessions: make([]OpenSession, len(sched))}
	for i, s := range sched {
		idx := int(mix(sc.Seed, -2, int64(i)) % uint64(len(docs)))
		if perm != nil {
			idx = perm[i%len(perm)]
		}
		p.Sessions[i] = OpenSession{
			Session: Session{Slot: i, Label: openloop.Label(i), Doc: &docs[idx]},
			Arrival: s.Arrival, Think: s.Think,
		}
	}
	return p, nil
}
