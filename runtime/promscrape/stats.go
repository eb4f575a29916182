package promscrape

import (
	"math"
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

func gaugeStat(win []Sample, name string) (Stat, bool) {
	st := Stat{Kind: KindGauge}
	total := 0.0
	for _, smp := range win {
		v, ok := smp.Values[name]
		if !ok {
			continue
		}
		if st.Samples == 0 || v > st.Max {
			st.Max = v
		}
		total += v
		st.Samples++
	}
	if st.Samples == 0 {
		return st, false
	}
	st.Mean = total / float64(st.Samples)
	return st, true
}

func counterStat(span []Sample, name string) (Stat, bool) {
	st := Stat{Kind: KindCounter}
	var first, prevT time.Time
	var prev float64
	for _, smp := range span {
		v, ok := smp.Values[name]
		if !ok {
			continue
		}
		if st.Samples == 0 {
			first = smp.T
		} else if v >= prev {
			st.Delta += v - prev
		} else {
			st.Delta += v // reset: the counter restarted from zero
		}
		prev, prevT = v, smp.T
		st.Samples++
	}
	if st.Samples < 2 {
		return st, false
	}
	if dt := prevT.Sub(first).Seconds(); dt > 0 {
		st.Rate = st.Delta / dt
	}
	return st, true
}

func histogramStat(span []Sample, name string) (Stat, bool) {
	st := Stat{Kind: KindHistogram}
	var prev Histogram
	delta := map[float64]float64{}
	for _, smp := range span {
		h, ok := smp.Histograms[name]
		if !ok {
			continue
		}
		if st.Samples > 0 {
			d := histDelta(prev, h)
			st.Count += d.Count
			st.Sum += d.Sum
			for _, b := range d.Buckets {
				delta[b.Le] += b.Count
			}
		}
		prev = h
		st.Samples++
	}
	if st.Samples < 2 {
		return st, false
	}
	var d Histogram
	d.Count = st.Count
	for _, le := range sortedKeys(delta) {
		d.Buckets = append(d.Buckets, Bucket{Le: le, Count: delta[le]})
	}
	if st.Count > 0 {
		st.P50 = Quantile(0.50, d)
		st.P90 = Quantile(0.90, d)
		st.P95 = Quantile(0.95, d)
		st.P99 = Quantile(0.99, d)
		st.P95Lo, st.P95Hi = QuantileBucket(0.95, d)
	}
	return st, true
}

// finiteP95 reports whether a histogram's p95 says something: it had
// observations, and the p95 and its bucket's lower bound are finite (the
// upper bound may be +Inf: the p95 lies past the last finite bucket). A
// histogram with only its +Inf bucket has no p95 to state.
func (st Stat) finiteP95() bool {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	return st.Count > 0 && finite(st.P95) && finite(st.P95Lo) && !math.IsNaN(st.P95Hi)
}

// histDelta is cur − prev bucket by bucket; a histogram whose count or any
// bucket went down was reset, and then cur itself is the delta.
func histDelta(prev, cur Histogram) Histogram {
	if cur.Count < prev.Count {
		return cur
	}
	old := map[float64]float64{}
	for _, b := range prev.Buckets {
		old[b.Le] = b.Count
	}
	d := Histogram{Count: cur.Count - prev.Count, Sum: cur.Sum - prev.Sum}
	for _, b := range cur.Buckets {
		if b.Count < old[b.Le] {
			return cur
		}
		d.Buckets = append(d.Buckets, Bucket{Le: b.Le, Count: b.Count - old[b.Le]})
	}
	return d
}

func sortedKeys(m map[float64]float64) []float64 {
	out := make([]float64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	// Insertion sort: bucket layouts are short.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Quantile is the q-quantile of a cumulative histogram, as Prometheus's
// histogram_quantile computes it: find the bucket holding rank q×Count and
// interpolate linearly inside it, its lower bound being the previous bucket's
// upper bound (0 for the first bucket). A rank in the implicit +Inf bucket
// gives the largest finite bound. NaN when the histogram is empty.
func Quantile(q float64, h Histogram) float64 {
	if h.Count <= 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if len(h.Buckets) == 0 {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	rank := q * h.Count
	prevLe, prevCount := 0.0, 0.0
	for i, b := range h.Buckets {
		if b.Count >= rank {
			if i == 0 && b.Le <= 0 {
				return b.Le
			}
			n := b.Count - prevCount
			if n <= 0 {
				return b.Le
			}
			return prevLe + (b.Le-prevLe)*(rank-prevCount)/n
		}
		prevLe, prevCount = b.Le, b.Count
	}
	return h.Buckets[len(h.Buckets)-1].Le
}

// QuantileBucket returns the bounds of the bucket that holds the
// q-quantile's rank, as Quantile finds it: the true quantile lies in
// (lo, hi]. hi is +Inf when the rank falls in the implicit +Inf bucket. Both
// are NaN for an empty histogram.
func QuantileBucket(q float64, h Histogram) (lo, hi float64) {
	if h.Count <= 0 || math.IsNaN(q) || len(h.Buckets) == 0 {
		return math.NaN(), math.NaN()
	}
	rank := min(max(q, 0), 1) * h.Count
	prevLe := 0.0
	for _, b := range h.Buckets {
		if b.Count >= rank {
			return min(prevLe, b.Le), b.Le
		}
		prevLe = b.Le
	}
	return prevLe, math.Inf(1)
}

// bounds converts a bucket's bounds in seconds.
func bounds(lo, hi float64) metrics.Bounds {
	return metrics.Bounds{Lo: metrics.Seconds(lo), Hi: metrics.Seconds(hi)}
}

func seconds(f float64) time.Duration {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return time.Duration(math.Round(f * float64(time.Second)))
}

func meanOf(st Stat) float64 {
	if st.Count <= 0 {
		return 0
	}
	return st.Sum / st.Count
}
