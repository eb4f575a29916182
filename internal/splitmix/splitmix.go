// Package splitmix is splitmix64: a tiny, fully specified generator and its
// finaliser, so seeded outputs (generated prose, simulator weights, session
// documents, block hashes) are the same on every machine and Go version
// (math/rand's streams are not promised).
package splitmix

// Gamma is splitmix64's increment, the golden ratio in 64 bits; it also
// spreads seeds that are mixed with other values.
const Gamma = 0x9e3779b97f4a7c15

// Finalize is splitmix64's output function (Stafford's mix13): every input
// bit affects every output bit.
func Finalize(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Source is a splitmix64 stream; its zero value starts at state 0.
type Source struct{ State uint64 }

// Next advances the stream and returns its next value.
func (s *Source) Next() uint64 {
	s.State += Gamma
	return Finalize(s.State)
}

// Intn returns a number in [0, n); the modulo bias is left in, so it suits
// only uses where that bias does not matter.
func (s *Source) Intn(n int) int { return int(s.Next() % uint64(n)) }
