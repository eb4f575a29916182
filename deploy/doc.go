// Package deploy has no code of its own. It holds what runs mrqa away from
// a laptop — the container image's Dockerfile — and its tests check it
// without a Docker engine: the image's Go build is run as the Dockerfile
// runs it and its binary checked to be static and to know its revision.
package deploy
