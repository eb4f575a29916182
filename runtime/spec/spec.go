// Package spec holds the plain Go description of a scenario file that the dsl
// package produces and the runtime consumes. It carries no HCL or cty types, so
// runtime can be driven by anything that can fill these structs (tests, other
// front ends) and never depends on the scenario language.
package spec

import (
	"time"

	"github.com/mrqa-dev/mrqa/runtime/metrics"
)

// File is one decoded scenario file.
type File struct {
	// Path is the configuration as given on the command line: a file, a
	// directory, or several files joined by spaces.
	Path string
	// SHA256 is the hex digest of the configuration file's bytes as read;
	// with several configuration files, one digest over them all (their
	// base names, lengths and bytes, in order).
	SHA256 string
	// Redacted is the configuration file's text with every sensitive value
	// replaced by "(sensitive)", safe to embed in reports; empty with
	// several configuration files (Files has each).
	Redacted string
	// Files are every file of the configuration as read, in load order: the
	// configuration files, then the variable files applied (those found
	// beside the configuration, then -var-file), then the files file() read.
	Files []SourceFile
	// RequiredVersion is the mrqa block's required_version as written; ""
	// without one.
	RequiredVersion string
	// Variables are the file's input variables with their final values.
	Variables []Variable
	// Secrets lists every sensitive value (sensitive variables, api keys, header
	// values, env() results, URL credentials); outputs redact them.
	Secrets []string
	// Scenarios in file order.
	Scenarios []*Scenario
}

// SourceFile is one file of a configuration.
type SourceFile struct {
	Path     string // as read
	SHA256   string // hex digest of its bytes
	Redacted string // its text, sensitive values replaced by "(sensitive)"
	Role     string // RoleConfiguration, RoleVariables or RoleInput
}

// The roles of a configuration's files.
const (
	RoleConfiguration = "configuration" // blocks: targets, corpora, scenarios, …
	RoleVariables     = "variables"     // NAME = VALUE lines: a variable file
	RoleInput         = "input"         // a file the configuration read with file()
)

// Variable is an input variable's resolved value, rendered as text.
type Variable struct {
	Name      string
	Value     string // "(sensitive)" when Sensitive
	Sensitive bool
	Source    string // default | env | file | flag
}

// Target is an OpenAI-compatible server, or the embedded simulator.
type Target struct {
	Name      string
	BaseURL   string // root including /v1; empty for a simulator until it starts
	Model     string // empty: preflight takes the only model /v1/models lists
	API       string // "chat" | "completions"
	APIKey    string
	Headers   map[string]string
	ExtraBody map[string]any // JSON-compatible values merged into every request body
	Timeouts  Timeouts
	TLS       *TLS     // nil: Go's defaults (the system's roots, the URL's host)
	Metrics   *Metrics // nil: no scraping (the simulator is always scraped)
	Between   BetweenPoints
	Simulator *Simulator // non-nil: the embedded simulator serves this target
	// DownAfter is the number of consecutive connection failures after which
	// the target counts as down and the sweep stops (default 10).
	DownAfter int
}

// Timeouts bound each phase of a request; zero means no limit.
type Timeouts struct {
	Connect    time.Duration
	FirstToken time.Duration
	Idle       time.Duration // longest gap between two events of a stream
	Total      time.Duration // a whole request, start to last byte
}

// TLS configures HTTPS connections. File paths are resolved (the dsl
// joins relative ones to the scenario file's directory).
type TLS struct {
	CAFile             string // PEM certificates trusted instead of the system's roots
	InsecureSkipVerify bool   // accept any certificate (testing only)
	ServerName         string // the name the certificate must carry; "": the URL's host
	CertFile, KeyFile  string // a client certificate and its key (PEM), both or neither
}

// Metrics names a Prometheus endpoint scraped in the background.
type Metrics struct {
	URL      string
	Interval time.Duration
	Include  []string // extra metric families kept raw
	TLS      *TLS     // the dsl defaults it to the target's
	// Headers go with every scrape, and BearerToken as "Authorization:
	// Bearer …" (before the headers, which may replace it). The dsl defaults
	// them to the target's headers and api_key; both are secrets.
	Headers     map[string]string
	BearerToken string
}

// BetweenPoints is what the client does after one grid point and before the next.
type BetweenPoints struct {
	ResetPrefixCache bool
	Cooldown         time.Duration
}

// Simulator configures the embedded simulator.
type Simulator struct {
	Profile string
	Clock   string // "real" | "virtual"
	// ProfileFile is the profile file the dsl loaded (resolved path), ""
	// for none; Profile and Params already hold what it set.
	ProfileFile string
	// Params override the profile's fields; keys and value types are checked
	// against the schema runtime/sim publishes. Values are float64, string,
	// bool or time.Duration.
	Params map[string]any
}

// Corpus describes where documents come from and how they are cut.
type Corpus struct {
	Name         string
	Source       Source
	Tokenizer    string // cl100k_base | o200k_base | hf:PATH | server
	Tokens       int    // cut every document to exactly this many tokens; 0 keeps them whole
	Buckets      bool   // cut to the largest power of two from 2^13 to 2^20 below the length
	MinDocuments int
	// BaseDir is the scenario file's directory; relative paths resolve from it.
	BaseDir string
}

// Source kinds.
const (
	SourceGutenberg = "gutenberg"
	SourceDir       = "dir"
	SourceSynthetic = "synthetic"
)

// Source is one of the corpus's document sources.
type Source struct {
	Kind string
	// gutenberg
	IDs              []int
	Mirror           string
	CacheDir         string
	StripBoilerplate bool
	// dir
	Path    string
	Pattern string
	// synthetic
	Documents int
	Seed      int64
}

// Script is what each session says.
type Script struct {
	Name                string
	System              Template // empty: no system message
	Opening             Template
	Questions           []Template
	MaxTokens           int
	Temperature         float64
	CompletionsTemplate string // for api = "completions"; empty: the client's default
}

// PartKind says what a template part stands for.
type PartKind int

// Template part kinds.
const (
	PartLiteral    PartKind = iota // Text as written
	PartDocument                   // the session's document text
	PartDocumentID                 // the document's id
	PartUser                       // the session's label, e.g. c2s1
	PartRound                      // the follow-up round, 1 for the first follow-up
)

// Part is one piece of a Template.
type Part struct {
	Kind PartKind
	Text string // for PartLiteral
}

// Template is message text compiled into parts so runtime can render it per
// session without HCL and without copying the document.
type Template []Part

// Scenario is one sweep: a workload against a target over a grid.
type Scenario struct {
	Name   string
	Target *Target
	Corpus *Corpus
	Script *Script
	Rounds int // follow-up turns after the opening turn
	Seed   int64
	Assign string // "distinct" | "random"
	Grid   Grid
	// Users, when not nil, makes the scenario open-loop: sessions arrive on
	// their own schedule instead of C workers cycling S sessions, and Grid
	// is empty. A scenario is one or the other.
	Users  *Users
	Search *Search // nil: run the full grid
	Score  string  // "sessions" | "harmonic"
	SLOs   []SLO
	Expect *metrics.Condition // sweep-level; nil when absent
	Report Report
	// AbortOnAllFailed stops the sweep after a point whose every request
	// failed: larger points cannot do better, and each could take hours of
	// timeouts.
	AbortOnAllFailed bool
}

// Grid lists the values of C and S to sweep.
type Grid struct {
	Concurrent []int
	Sequential []int
}

// Points is the grid walk: every (C, S) pair, C in the outer loop, each in
// the order the values were written.
func (g Grid) Points() [][2]int {
	out := make([][2]int, 0, len(g.Concurrent)*len(g.Sequential))
	for _, c := range g.Concurrent {
		for _, s := range g.Sequential {
			out = append(out, [2]int{c, s})
		}
	}
	return out
}

// Users is an open-loop workload: sessions start at the times an arrival
// process gives, whatever the server is doing, pause for a think time
// before each follow-up, and leave after their last answer. Package
// openloop turns it into a seeded schedule.
type Users struct {
	Arrival string // ArrivalConstant | ArrivalPoisson | ArrivalGamma
	// Burstiness is the gamma arrivals' shape: 1 is Poisson, below 1
	// burstier, above 1 more regular (as vLLM's benchmark --burstiness).
	Burstiness float64
	Rates      []float64 // sessions starting per minute, the sweep's axis, each > 0
	Think      Think
	// A point ends its arrivals after Sessions sessions, or once Duration
	// has passed; exactly one of them is set.
	Sessions int
	Duration time.Duration
	// Warmup: turns that start before it are left out of the point's
	// metrics (the sessions still load the server).
	Warmup time.Duration
	// MaxActive bounds the sessions active at once; an arrival beyond it
	// is dropped, every turn of it recorded as metrics.ErrDropped.
	MaxActive int
}

// Think is the distribution of the pause before each follow-up question.
type Think struct {
	Distribution string        // ThinkConstant | ThinkExponential | ThinkLogNormal
	Mean         time.Duration // 0: no pause
	Sigma        float64       // the log-normal's σ (of the log); 0 elsewhere
}

// Arrival processes (Users.Arrival).
const (
	ArrivalConstant = "constant" // evenly spaced, 60/rate seconds apart
	ArrivalPoisson  = "poisson"  // exponential gaps
	ArrivalGamma    = "gamma"    // gamma gaps of shape Burstiness
)

// Think-time distributions (Think.Distribution).
const (
	ThinkConstant    = "constant"
	ThinkExponential = "exponential"
	ThinkLogNormal   = "lognormal"
)

// Defaults of the users block.
const (
	DefaultArrival    = ArrivalPoisson
	DefaultBurstiness = 1.0
	DefaultThink      = ThinkExponential
	DefaultThinkSigma = 1.0
	MaxOpenSessions   = 1_000_000 // a point's arrivals, whatever rate × duration gives
	// MinOpenRate and MinBurstiness keep a schedule's times representable:
	// below them gaps overflow a time.Duration or round to nothing.
	MinOpenRate   = 0.001 // sessions a minute: one every ~17 hours
	MinBurstiness = 0.01
)

// Search configures the frontier search (package search; search "frontier"
// in docs/language.md).
type Search struct {
	Kind          string // "frontier"
	Extend        bool
	ExtendStep    int // 0: double
	MaxConcurrent int
	MaxSequential int
	MaxPoints     int
	// MaxRate caps an open-loop search's arrival rate (sessions per
	// minute); 0: SearchMaxFactor times the largest declared rate.
	MaxRate float64
}

// RatePrecision is where an open-loop search stops bisecting: once the
// failing rate above the best passing one is within this fraction of it.
const RatePrecision = 0.05

// SLO is a named pass/fail condition over a point's metrics.
type SLO struct {
	Name      string
	Condition *metrics.Condition
}

// Report configures the scenario's outputs.
type Report struct {
	Dir     string // empty: out/<scenario>
	Title   string
	LMBench bool
}

// Document assignments (Scenario.Assign).
const (
	AssignDistinct = "distinct" // every session of a point gets its own document
	AssignRandom   = "random"   // drawn with replacement, as the source benchmark does
)

// Target APIs (Target.API).
const (
	APIChat        = "chat"        // /v1/chat/completions
	APICompletions = "completions" // /v1/completions, messages rendered by a template
)

// Simulator clocks (Simulator.Clock).
const (
	ClockReal    = "real"    // an HTTP server whose engine sleeps each step's duration
	ClockVirtual = "virtual" // the runtime runs the engine on a simulated clock, no HTTP
)

// Scores (Scenario.Score): what the best point maximises.
const (
	ScoreSessions = "sessions" // C×S
	ScoreHarmonic = "harmonic" // 2CS/(C+S)
)

// SearchFrontier is the one search kind (Search.Kind).
const SearchFrontier = "frontier"

// Defaults applied by dsl when an attribute is absent; runtime relies on them.
const (
	DefaultAPI       = APIChat
	DefaultAssign    = AssignDistinct
	DefaultScore     = ScoreSessions
	DefaultDownAfter = 10
	DefaultMaxTokens = 512
)

// DefaultConnectTimeout bounds opening a connection to a target (timeouts {
// connect }), and mrqa init's look at a server's model list.
const DefaultConnectTimeout = 10 * time.Second
