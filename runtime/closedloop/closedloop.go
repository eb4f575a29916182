// Package closedloop holds the rules a closed-loop session follows, whichever
// executor sends its requests (the HTTP client or the simulator's virtual
// clock): what a session sends in each of its slots, and when a turn is
// recorded as failed without being sent.
//
// A session's follow-up questions only make sense after the server has seen
// its opening (the turn that carries the document). When the opening fails,
// the session re-sends it in its next slot, as a user retrying would, and
// the question that slot was for is never asked: it is recorded as a failed
// turn of kind metrics.ErrOpeningFailed, +∞ in ttft_*. So a server that
// fails openings keeps receiving full-size openings (its load stays what the
// point plans) and can never look fast by answering questions about a
// document it never read. docs/differences.md compares the rule with the
// source benchmark's.
package closedloop

import "github.com/mrqa-dev/mrqa/runtime/metrics"

// Action is what a session does in one slot of the worker's turn order.
type Action struct {
	// Opening: send the opening turn (the one carrying the document).
	Opening bool
	// Attempt numbers the opening's sends, 1 for the first; 0 for a question.
	Attempt int
	// Skipped is true when the slot's question is not asked because the
	// opening has not yet succeeded; the caller records it with Skip.
	Skipped bool
}

// Session is one session's state in the loop. The zero value is a session
// that has sent nothing.
type Session struct {
	opened   bool
	attempts int
}

// Next says what the session does in its slot for turn (0 = the opening).
func (s *Session) Next(turn int) Action {
	if s.opened && turn > 0 {
		return Action{}
	}
	s.attempts++
	return Action{Opening: true, Attempt: s.attempts, Skipped: turn > 0}
}

// Done records the outcome of the request an action sent.
func (s *Session) Done(a Action, ok bool) {
	if a.Opening && ok {
		s.opened = true
	}
}

// SkipMessage is the message of a turn recorded as ErrOpeningFailed.
const SkipMessage = "not asked: the session's opening had not succeeded, so its slot re-sent the opening"

// Skip marks rec, a turn that was not sent, as failed for lack of an opening.
func Skip(rec *metrics.Record) {
	rec.Error, rec.Message = metrics.ErrOpeningFailed, SkipMessage
}
