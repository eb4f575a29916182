package results

import "time"

// Shard is one of Count disjoint parts of a grid sweep, numbered from 0.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Merged is where a merged sweep's points come from: the sweep's shard
// count and each shard folder merged, by index.
type Merged struct {
	Count  int           `json:"count"`
	Shards []MergedShard `json:"shards"`
}

// MergedShard is one shard folder as merged.
type MergedShard struct {
	Index  int    `json:"index"`
	Folder string `json:"folder"`
	// BaseURL is the target the shard measured (credentials removed).
	BaseURL     string    `json:"base_url,omitempty"`
	ToolVersion string    `json:"tool_version"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	Points      int       `json:"points"`
	Complete    bool      `json:"complete"`
	Stopped     string    `json:"stopped,omitempty"`
}

// Missing is what a merged sweep lacks: the shards no folder was given
// for, and every point of the grid that no shard folder holds.
type Missing struct {
	Shards []int          `json:"shards,omitempty"`
	Points []MissingPoint `json:"points"`
}

// MissingPoint is a grid point that did not run, and the shard it
// belongs to.
type MissingPoint struct {
	Concurrent int `json:"concurrent"`
	Sequential int `json:"sequential"`
	Shard      int `json:"shard"`
}
