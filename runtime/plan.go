// Package runtime executes scenario specs: it plans each grid point's
// sessions and documents, drives the target through an Executor (HTTP or the
// simulator's virtual clock), aggregates metrics, decides SLO outcomes and the
// best point, and writes results. It never imports the scenario language.
package runtime

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/internal/splitmix"
	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// Session is one simulated user of a point.
type Session struct {
	Worker int // 0-based
	Slot   int // 0-based position in the worker's turn order
	Label  string
	Doc    *corpus.Document
}

// Point is one grid point's plan: Workers[w][slot].
type Point struct {
	C, S    int
	Rounds  int
	Workers [][]Session
}

// Label names a session as the source benchmark's users: c<worker>s<slot>, 1-based.
func Label(worker, slot int) string {
	return "c" + strconv.Itoa(worker+1) + "s" + strconv.Itoa(slot+1)
}

// mix derives a 64-bit value from the scenario seed and the point and session
// coordinates, so a session's document never depends on the order points run in.
func mix(vals ...int64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, v := range vals {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	// splitmix64 finaliser spreads fnv's low-entropy output.
	return splitmix.Finalize(h.Sum64() + splitmix.Gamma)
}

// PlanPoint assigns documents to the C×S sessions of a point. With "distinct"
// every session gets a different document (a permutation seeded by seed, C and
// S); with "random" each session draws with replacement, seeded by
// (seed, C, S, worker, slot).
func PlanPoint(sc *spec.Scenario, docs []corpus.Document, c, s int) (*Point, error) {
	if len(docs) == 0 {
		return nil, fmt.Errorf("corpus %q has no documents", sc.Corpus.Name)
	}
	n := c * s
	p := &Point{C: c, S: s, Rounds: sc.Rounds, Workers: make([][]Session, c)}
	var perm []int
	if sc.Assign != spec.AssignRandom {
		if n > len(docs) {
			return nil, fmt.Errorf("point C=%d S=%d needs %d distinct documents but corpus %q has %d (use more documents or assign = \"random\")", c, s, n, sc.Corpus.Name, len(docs))
		}
		perm = make([]int, len(docs))
		for i := range perm {
			perm[i] = i
		}
		// Fisher–Yates driven by mix so it is stable across runs and machines.
		for i := len(perm) - 1; i > 0; i-- {
			j := int(mix(sc.Seed, int64(c), int64(s), int64(i)) % uint64(i+1))
			perm[i], perm[j] = perm[j], perm[i]
		}
	}
	for w := 0; w < c; w++ {
		p.Workers[w] = make([]Session, s)
		for slot := 0; slot < s; slot++ {
			var idx int
			if perm != nil {
				idx = perm[w*s+slot]
			} else {
				idx = int(mix(sc.Seed, int64(c), int64(s), int64(w), int64(slot)) % uint64(len(docs)))
			}
			p.Workers[w][slot] = Session{Worker: w, Slot: slot, Label: Label(w, slot), Doc: &docs[idx]}
		}
	}
	return p, nil
}

// Sessions lists the point's sessions in worker, then slot order.
func (p *Point) Sessions() []Session {
	out := make([]Session, 0, p.C*p.S)
	for _, w := range p.Workers {
		out = append(out, w...)
	}
	return out
}

// Requests is the number of requests the point sends.
func (p *Point) Requests() int { return p.C * p.S * (p.Rounds + 1) }

// expand walks a template for one session and round: lit receives each run
// of literal text (document id, user label and round filled in), doc is
// called where the document's text stands. Executors decide what the
// document becomes — a shared escaped copy, or just its token count — so it
// is never copied here.
func expand(t spec.Template, sess *Session, round int, lit func(string), doc func()) {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			lit(b.String())
			b.Reset()
		}
	}
	for _, part := range t {
		switch part.Kind {
		case spec.PartLiteral:
			b.WriteString(part.Text)
		case spec.PartDocument:
			flush()
			doc()
		case spec.PartDocumentID:
			b.WriteString(sess.Doc.ID)
		case spec.PartUser:
			b.WriteString(sess.Label)
		case spec.PartRound:
			b.WriteString(strconv.Itoa(round))
		}
	}
	flush()
}
