//go:build race

package tokenizer

// raceEnabled trims the largest inputs of the long-run tests: the race
// detector slows the map-heavy merge about tenfold.
const raceEnabled = true
