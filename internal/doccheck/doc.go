// Package doccheck has no code of its own. Its tests keep the repository
// self-explaining: every file path that a Go comment or a Markdown file names
// exists in the repository, no comment or document cites an issue number the
// reader cannot open, the README's architecture section names every
// package, and the README says how to get an mrqa binary, runs in its
// set-up exactly what CI runs, and warns that go run hides the exit codes.
package doccheck
