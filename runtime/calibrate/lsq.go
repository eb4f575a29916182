package calibrate

import "math"

// collinear is how small a column's remainder may get, relative to its
// own length, after removing its projection on the columns before it,
// before it counts as a combination of them.
const collinear = 1e-7

// lsq is the least-squares solution of X·b ≈ y.
type lsq struct {
	coef   []float64 // 0 for a dropped column
	stderr []float64 // standard error of each coefficient; +Inf when rows ≤ columns
	// dropped marks columns that are zero or (numerically) combinations of
	// the columns before them: the data cannot tell their coefficient apart.
	dropped []bool
	resid   []float64 // y − X·b
}

// leastSquares solves min ‖X·b − y‖ by modified Gram–Schmidt on columns
// scaled to unit length, dropping collinear columns instead of failing.
// X is row-major: X[i] is observation i.
func leastSquares(X [][]float64, y []float64) lsq {
	n, p := len(X), 0
	if n > 0 {
		p = len(X[0])
	}
	out := lsq{coef: make([]float64, p), stderr: make([]float64, p), dropped: make([]bool, p), resid: append([]float64(nil), y...)}
	var q [][]float64 // orthonormal columns kept
	var kept []int
	var scale []float64
	r := make([][]float64, p) // r[k][j]: column kept[k] row of R, for kept column j
	for j := range p {
		col, norm := column(X, j)
		if norm == 0 {
			out.dropped[j] = true
			continue
		}
		for i := range col {
			col[i] /= norm
		}
		rj := make([]float64, len(kept)+1)
		for k, qk := range q {
			rj[k] = dot(qk, col)
			axpy(-rj[k], qk, col)
		}
		rest := math.Sqrt(dot(col, col))
		if rest < collinear {
			out.dropped[j] = true
			continue
		}
		for i := range col {
			col[i] /= rest
		}
		rj[len(kept)] = rest
		r[len(kept)] = rj
		q, kept, scale = append(q, col), append(kept, j), append(scale, norm)
	}
	solve(&out, q, r[:len(kept)], kept, scale, y)
	return out
}

// solve back-substitutes R·b = Qᵀ·y, unscales, and fills the residuals
// and standard errors.
func solve(out *lsq, q [][]float64, r [][]float64, kept []int, scale []float64, y []float64) {
	k := len(kept)
	rinv := upperInverse(r, k)
	qty := make([]float64, k)
	for a := range k {
		qty[a] = dot(q[a], y)
	}
	for a := range k {
		var b float64
		for c := a; c < k; c++ {
			b += rinv[a][c] * qty[c]
		}
		out.coef[kept[a]] = b / scale[a]
	}
	var rss float64
	for i := range out.resid {
		for a := range k {
			out.resid[i] -= q[a][i] * qty[a]
		}
		rss += out.resid[i] * out.resid[i]
	}
	sigma := math.Inf(1)
	if dof := len(y) - k; dof > 0 {
		sigma = math.Sqrt(rss / float64(dof))
	}
	for a := range k {
		var s float64
		for c := a; c < k; c++ {
			s += rinv[a][c] * rinv[a][c]
		}
		out.stderr[kept[a]] = sigma * math.Sqrt(s) / scale[a]
	}
}

// upperInverse inverts the upper-triangular R whose column j is r[j][0..j].
func upperInverse(r [][]float64, k int) [][]float64 {
	inv := make([][]float64, k)
	for a := range inv {
		inv[a] = make([]float64, k)
	}
	for j := k - 1; j >= 0; j-- {
		inv[j][j] = 1 / r[j][j]
		for a := j - 1; a >= 0; a-- {
			var s float64
			for c := a + 1; c <= j; c++ {
				s += r[c][a] * inv[c][j]
			}
			inv[a][j] = -s / r[a][a]
		}
	}
	return inv
}

func column(X [][]float64, j int) ([]float64, float64) {
	col := make([]float64, len(X))
	for i, row := range X {
		col[i] = row[j]
	}
	return col, math.Sqrt(dot(col, col))
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// axpy sets y += a·x.
func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}
