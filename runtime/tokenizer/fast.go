package tokenizer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// fastBPE is a byte-level BPE encoder with a hand-written pre-tokenizer. It
// gives the same ids as tiktoken-go's core for the same ranks and pattern
// (fast_test.go checks this), several times faster, because the split regex
// dominates tiktoken-go's time. Unlike tiktoken-go, its time grows as
// n log n, not n², on a piece of n bytes without split points, and its Err
// methods stop when their context ends.
type fastBPE struct {
	name       string
	ranks      map[string]int // token bytes → id (= merge rank)
	dec        []string       // id → token bytes
	special    map[string]int
	specialDec map[int]string
	byLen      []string // special tokens, longest first
	firsts     string   // the first rune of each special token
	split      splitFunc
	prepare    func(string) string
	work       *atomic.Int64 // tests: totals every call's work units as it goes
}

func newFastBPE(name string, ranks, special map[string]int, split splitFunc, specials bool, prepare func(string) string) (*fastBPE, error) {
	for b := 0; b < 256; b++ {
		if _, ok := ranks[string([]byte{byte(b)})]; !ok {
			return nil, fmt.Errorf("tokenizer %s: vocabulary lacks the byte 0x%02x", name, b)
		}
	}
	maxID := 0
	for _, id := range ranks {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer %s: negative id %d", name, id)
		}
		maxID = max(maxID, id)
	}
	dec := make([]string, maxID+1)
	for tok, id := range ranks {
		if dec[id] != "" {
			return nil, fmt.Errorf("tokenizer %s: id %d used twice", name, id)
		}
		dec[id] = tok
	}
	f := &fastBPE{name: name, ranks: ranks, dec: dec, split: split, prepare: prepare, specialDec: map[int]string{}}
	for tok, id := range special {
		f.specialDec[id] = tok
	}
	if specials && len(special) > 0 {
		f.special = special
		for tok := range special {
			f.byLen = append(f.byLen, tok)
		}
		sort.Slice(f.byLen, func(i, j int) bool {
			if len(f.byLen[i]) != len(f.byLen[j]) {
				return len(f.byLen[i]) > len(f.byLen[j])
			}
			return f.byLen[i] < f.byLen[j]
		})
		seen := map[rune]bool{}
		var firsts strings.Builder
		for _, tok := range f.byLen {
			r, _ := utf8.DecodeRuneInString(tok)
			if !seen[r] {
				seen[r] = true
				firsts.WriteRune(r)
			}
		}
		f.firsts = firsts.String()
	}
	return f, nil
}

func (f *fastBPE) Name() string { return f.name }

// Encode returns the ids of s.
func (f *fastBPE) Encode(s string) []int {
	ids, _ := f.encode(context.Background(), s) // never stops: no error
	return ids
}

// EncodeErr is Encode stopping with ctx's error once ctx ends.
func (f *fastBPE) EncodeErr(ctx context.Context, s string) ([]int, error) {
	return f.encode(ctx, s)
}

// CountErr is Count stopping with ctx's error once ctx ends.
func (f *fastBPE) CountErr(ctx context.Context, s string) (int, error) {
	ids, err := f.encode(ctx, s)
	return len(ids), err
}

// DecodeErr is Decode (linear in its output, never long) after checking ctx.
func (f *fastBPE) DecodeErr(ctx context.Context, ids []int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return f.Decode(ids), nil
}

// encode returns the ids of s, or nil and ctx's error once ctx has ended:
// ctx is looked at every checkEvery units of work (a byte split off, a merge
// step), so even one piece of megabytes stops promptly.
func (f *fastBPE) encode(ctx context.Context, s string) ([]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // short texts never reach a look at ctx
	}
	st := &stopper{done: ctx.Done(), budget: checkEvery, total: f.work}
	defer st.flush()
	if f.prepare != nil {
		s = f.prepare(s)
	}
	if !utf8.ValidString(s) {
		// Each invalid byte becomes U+FFFD, as the rune conversion in
		// tiktoken-go does.
		s = string([]rune(s))
	}
	out := make([]int, 0, len(s)/4+8)
	for len(s) > 0 && !st.stopped {
		at, tok := -1, ""
		if f.special != nil {
			at, tok = f.nextSpecial(s)
		}
		if at < 0 {
			out = f.encodeOrdinary(s, out, st)
			break
		}
		out = f.encodeOrdinary(s[:at], out, st)
		out = append(out, f.special[tok])
		s = s[at+len(tok):]
	}
	if st.stopped {
		return nil, ctx.Err()
	}
	return out, nil
}

// checkEvery is how many units of work pass between two looks at the context.
const checkEvery = 1 << 16

// stopper watches a context from hot loops cheaply: it looks at done only
// once per checkEvery units of work. It also counts the work into total,
// when set (tests), at each look and at the end.
type stopper struct {
	done    <-chan struct{} // nil: never stops
	budget  int
	work    int64 // not yet added to total
	total   *atomic.Int64
	stopped bool
}

// tick adds n units of work and reports whether to stop.
func (s *stopper) tick(n int) bool {
	s.work += int64(n)
	if s.budget -= n; s.budget > 0 {
		return s.stopped
	}
	s.budget = checkEvery
	s.flush()
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		s.stopped = true
	default:
	}
	return s.stopped
}

// flush adds the work counted so far to total.
func (s *stopper) flush() {
	if s.total != nil {
		s.total.Add(s.work)
	}
	s.work = 0
}

// nextSpecial finds the leftmost special token in s, the longest at that
// place (as Hugging Face's added-token matching does); -1 when none.
func (f *fastBPE) nextSpecial(s string) (int, string) {
	for off := 0; off < len(s); {
		i := strings.IndexAny(s[off:], f.firsts)
		if i < 0 {
			return -1, ""
		}
		off += i
		for _, tok := range f.byLen {
			if strings.HasPrefix(s[off:], tok) {
				return off, tok
			}
		}
		_, n := utf8.DecodeRuneInString(s[off:])
		off += n
	}
	return -1, ""
}

func (f *fastBPE) encodeOrdinary(s string, out []int, st *stopper) []int {
	f.split(s, func(piece string) bool {
		if st.tick(len(piece)) {
			return false
		}
		if id, ok := f.ranks[piece]; ok {
			out = append(out, id)
			return true
		}
		out = f.merge(piece, out, st)
		return !st.stopped
	})
	return out
}

// longPiece is the length in bytes from which a piece is merged with a heap
// (mergeLong) rather than by scanning (mergeShort). Ordinary text splits
// into pieces of a few bytes, for which the scan is fastest; a run without
// split points (one letter repeated, a long identifier, base64) makes one
// piece of any length, on which the scan's cost grows with the square of
// the length.
const longPiece = 256

// merge applies byte-pair merges to piece: repeatedly join the adjacent
// pair whose joined bytes have the lowest rank (the leftmost on ties) until
// no joined pair is a token, then append the parts' ids.
func (f *fastBPE) merge(piece string, out []int, st *stopper) []int {
	if len(piece) >= longPiece {
		return f.mergeLong(piece, out, st)
	}
	return f.mergeShort(piece, out, st)
}

// part is a token being built by mergeShort: where it starts in the piece
// and the rank of merging it with the next part.
type part struct {
	start, rank int
}

// mergeShort is merge by scanning all parts for the best pair at each step.
func (f *fastBPE) mergeShort(piece string, out []int, st *stopper) []int {
	var buf [48]part
	parts := buf[:0]
	for i := 0; i <= len(piece); i++ {
		parts = append(parts, part{start: i, rank: math.MaxInt})
	}
	pairRank := func(i int) int {
		if i+2 < len(parts) {
			if r, ok := f.ranks[piece[parts[i].start:parts[i+2].start]]; ok {
				return r
			}
		}
		return math.MaxInt
	}
	for i := 0; i+2 < len(parts); i++ {
		parts[i].rank = pairRank(i)
	}
	for len(parts) > 2 {
		if st.tick(len(parts)) {
			return out
		}
		best, bi := math.MaxInt, -1
		for i := 0; i+1 < len(parts); i++ {
			if parts[i].rank < best {
				best, bi = parts[i].rank, i
			}
		}
		if bi < 0 {
			break
		}
		parts = append(parts[:bi+1], parts[bi+2:]...)
		parts[bi].rank = pairRank(bi)
		if bi > 0 {
			parts[bi-1].rank = pairRank(bi - 1)
		}
	}
	for i := 0; i+1 < len(parts); i++ {
		out = append(out, f.ranks[piece[parts[i].start:parts[i+1].start]])
	}
	return out
}

// noRank marks a part that cannot merge with the next one.
const noRank = math.MaxInt32

// mergeLong is merge in O(n log n) for a piece of n bytes, making the same
// merges in the same order as mergeShort. Parts are named by the offset
// they start at and linked in order (next, prev); rank[p] is the rank of
// joining part p with the one after it. A min-heap on (rank, offset) yields
// the leftmost lowest-ranked pair, and a merge changes only the merged part's
// rank and its predecessor's.
func (f *fastBPE) mergeLong(piece string, out []int, st *stopper) []int {
	n := int32(len(piece))
	next := make([]int32, n) // where the part after p starts; n after the last
	prev := make([]int32, n) // where the part before p starts; -1 for the first
	for p := range n {
		next[p], prev[p] = p+1, p-1
	}
	pairRank := func(p int32) int32 {
		q := next[p]
		if q >= n {
			return noRank
		}
		if r, ok := f.ranks[piece[p:next[q]]]; ok {
			return int32(r)
		}
		return noRank
	}
	h := &mergeHeap{items: make([]uint64, 0, n), at: make([]int32, n)}
	for p := range n {
		h.add(p, pairRank(p))
		if st.tick(1) {
			return out
		}
	}
	h.heapify()
	if st.tick(h.work) {
		return out
	}
	for len(h.items) > 0 {
		before := h.work
		p := h.top()
		q := next[p] // joins p
		r := next[q]
		next[p] = r
		if r < n {
			prev[r] = p
		}
		h.set(q, noRank)
		h.set(p, pairRank(p))
		if pp := prev[p]; pp >= 0 {
			h.set(pp, pairRank(pp))
		}
		if st.tick(1 + h.work - before) {
			return out
		}
	}
	for p := int32(0); p < n; p = next[p] {
		out = append(out, f.ranks[piece[p:next[p]]])
	}
	return out
}

// mergeHeap is a min-heap (4-ary) of parts ordered by (rank, offset),
// indexed so that a part's rank can change in place. Each item packs the
// rank and the offset into one key, so comparing two needs no lookup.
type mergeHeap struct {
	items []uint64 // rank<<32 | offset, in heap order
	at    []int32  // each offset's index in items; -1 when absent
	work  int      // sift steps taken, for the caller's accounting
}

// heapArity is the heap's branching: four children share a cache line,
// which halves the depth that each change walks.
const heapArity = 4

func heapKey(p, rank int32) uint64 { return uint64(rank)<<32 | uint64(p) }

// top is the offset of the part with the lowest (rank, offset).
func (h *mergeHeap) top() int32 { return int32(h.items[0]) }

// add puts part p with its rank at the end of items (noRank: leaves it
// out), for heapify to order.
func (h *mergeHeap) add(p, rank int32) {
	h.at[p] = -1
	if rank != noRank {
		h.at[p] = int32(len(h.items))
		h.items = append(h.items, heapKey(p, rank))
	}
}

// heapify orders the items added into a heap.
func (h *mergeHeap) heapify() {
	for i := (len(h.items) - 2) / heapArity; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.at[int32(h.items[i])], h.at[int32(h.items[j])] = int32(i), int32(j)
	h.work++
}

func (h *mergeHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / heapArity
		if h.items[i] >= h.items[parent] {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

func (h *mergeHeap) down(i int) {
	for {
		first := heapArity*i + 1
		if first >= len(h.items) {
			return
		}
		c := first
		for k := first + 1; k < min(first+heapArity, len(h.items)); k++ {
			if h.items[k] < h.items[c] {
				c = k
			}
		}
		if h.items[c] >= h.items[i] {
			return
		}
		h.swap(i, c)
		i = c
	}
}

// set gives part p a new rank, adding it to, moving it in or removing it
// from the heap.
func (h *mergeHeap) set(p, rank int32) {
	i := int(h.at[p])
	switch {
	case i < 0 && rank == noRank:
	case i < 0:
		h.at[p] = int32(len(h.items))
		h.items = append(h.items, heapKey(p, rank))
		h.up(len(h.items) - 1)
	case rank == noRank:
		last := len(h.items) - 1
		if i != last {
			h.swap(i, last)
		}
		h.items = h.items[:last]
		h.at[p] = -1
		if i < last {
			h.up(i)
			h.down(i)
		}
	default:
		h.items[i] = heapKey(p, rank)
		h.up(i)
		h.down(int(h.at[p]))
	}
}

func (f *fastBPE) Decode(ids []int) string {
	var b strings.Builder
	b.Grow(len(ids) * 4)
	for _, id := range ids {
		if id >= 0 && id < len(f.dec) && f.dec[id] != "" {
			b.WriteString(f.dec[id])
		} else if tok, ok := f.specialDec[id]; ok {
			b.WriteString(tok)
		}
	}
	return b.String()
}

func (f *fastBPE) Count(s string) int { return len(f.Encode(s)) }
