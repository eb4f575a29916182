package metrics

import (
	"encoding/json"
	"fmt"
)

// NoDataSet names the metrics of a point that had nothing to measure, each
// with the reason, in words a reader can act on ("no successful steady
// turn", "the target has no metrics source"). A name present in the set has
// no data whatever its numeric field reads.
type NoDataSet map[string]string

// Has reports whether name has no data.
func (s NoDataSet) Has(name string) bool {
	_, ok := s[name]
	return ok
}

// Reason is why name has no data; empty when it has data.
func (s NoDataSet) Reason(name string) string { return s[name] }

// UnmarshalJSON reads the reasons, and also the form results.json had before
// reasons were recorded ({"name": true}).
func (s *NoDataSet) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("no_data: %w", err)
	}
	out := make(NoDataSet, len(raw))
	for k, v := range raw {
		var reason string
		if err := json.Unmarshal(v, &reason); err == nil {
			out[k] = reason
			continue
		}
		var flag bool
		if err := json.Unmarshal(v, &flag); err != nil {
			return fmt.Errorf("no_data %q: neither a reason nor true: %s", k, v)
		}
		if flag {
			out[k] = "no data"
		}
	}
	*s = out
	return nil
}

// Reasons a metric can have no data. One home each, so the terminal, the
// report and results.json say the same thing.
const (
	WhyNoSteadyTurn       = "no steady turn (rounds = 0, or every steady turn was canceled)"
	WhyNoSuccessfulSteady = "no successful steady turn"
	WhyNoITL              = "no successful steady turn with two or more tokens"
	WhyNoOpening          = "no opening turn"
	WhyNoRequest          = "no request"
	WhyNoSpan             = "no request, or all requests within one instant"
	WhyCachedUnreported   = "the server's usage never reported cached tokens (vLLM reports them with --enable-prompt-tokens-details)"
	WhyNotFinite          = "the value was not a finite number"
	WhyNoMetricsSource    = "the target has no metrics source: add a metrics { url = \".../metrics\" } block"
	WhyNotScraped         = "no server metrics were scraped for this point"
)
