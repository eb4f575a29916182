// Package doccheck has no code of its own. Its tests keep the repository
// self-explaining: every file path that a Go comment or a Markdown file names
// exists in the repository, no comment or document cites an issue number the
// reader cannot open, and the README's architecture section names every
// package.
package doccheck
