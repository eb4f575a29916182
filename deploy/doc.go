// Package deploy has no code of its own. It holds what runs mrqa away from
// a laptop — the container image's Dockerfile and the Kubernetes manifests
// of a sharded sweep (docs/kubernetes.md) — and its tests check them
// without a Docker engine or a cluster: the image's Go build is run as the
// Dockerfile runs it and its binary checked to be static and to know its
// revision, and every manifest is decoded strictly and checked against the
// others, the guide's command lines and the scenario it ships.
package deploy
