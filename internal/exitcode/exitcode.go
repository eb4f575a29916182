// Package exitcode holds mrqa's process exit codes, the one set every
// command uses; docs/architecture.md ("Exit codes") says when each is used.
package exitcode

const (
	OK          = 0
	Failure     = 1   // a run-time failure; for fmt -check, a file that would change
	Usage       = 2   // a usage error or an invalid scenario
	Expect      = 99  // an expect was not met
	Interrupted = 130 // interrupted; -resume continues
)
