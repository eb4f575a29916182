//go:build race

package openai

// raceBuild reports a -race build, whose instrumentation slows the client
// several times: timing bounds do not apply to it.
const raceBuild = true
