//go:build race

package corpus

// raceEnabled trims the heaviest tests: the race detector slows map-heavy
// tokenizing tenfold.
const raceEnabled = true
