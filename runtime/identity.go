package runtime

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mrqa-dev/mrqa/runtime/corpus"
	"github.com/mrqa-dev/mrqa/runtime/results"
	"github.com/mrqa-dev/mrqa/runtime/spec"
)

// identity lists, field by field, everything a point's measurement depends
// on: the workload and the target as compiled from the scenario (the model
// as preflight confirmed it), not the file's bytes. A comment, `mrqa fmt`
// or a changed SLO, grid, search, score or report block leaves it
// unchanged; so finished points stay valid across such edits, and a change
// that does invalidate them is named. Short values are kept as they are,
// long ones (templates, documents) as a sha256. A value built from a secret
// (an env() URL, a sensitive model name) is kept as a digest salted with the
// folder's salt: changes are still seen, and the value is never written.
func identity(sc *spec.Scenario, docs []corpus.Document, model string, red *redactor, salt string) map[string]string {
	t := sc.Target
	secret := func(v string) string {
		if red.apply(v) == v {
			return v
		}
		sum := sha256.Sum256([]byte(salt + "\x00" + v))
		return secretPrefix + hex.EncodeToString(sum[:12])
	}
	timeouts := fmt.Sprintf("connect %s, first_token %s, idle %s, total %s", t.Timeouts.Connect, t.Timeouts.FirstToken, t.Timeouts.Idle, t.Timeouts.Total)
	id := map[string]string{
		"rules":                 measurementRules,
		"scenario":              sc.Name,
		"target.base_url":       secret(results.StripUserinfo(t.BaseURL)),
		"target.model":          secret(model),
		"target.api":            t.API,
		"target.header_names":   strings.Join(slices.Sorted(maps.Keys(t.Headers)), ","),
		"target.extra_body":     digest(secret(jsonText(t.ExtraBody))),
		"target.timeouts":       timeouts,
		"target.between_points": fmt.Sprintf("reset_prefix_cache %v, cooldown %s", t.Between.ResetPrefixCache, t.Between.Cooldown),
		"corpus.tokenizer":      sc.Corpus.Tokenizer,
		"corpus.documents":      documentsDigest(docs),
		"script":                scriptDigest(sc.Script, sc.Rounds),
		"script.max_tokens":     strconv.Itoa(sc.Script.MaxTokens),
		"script.temperature":    strconv.FormatFloat(sc.Script.Temperature, 'g', -1, 64),
		"rounds":                strconv.Itoa(sc.Rounds),
		"seed":                  strconv.FormatInt(sc.Seed, 10),
		"assign":                sc.Assign,
	}
	if t.TLS != nil {
		id["target.tls.server_name"] = secret(t.TLS.ServerName)
	}
	if u := sc.Users; u != nil {
		id["users"] = usersIdentity(u)
	}
	if s := t.Simulator; s != nil {
		id["target.simulator"] = fmt.Sprintf("profile %s, clock %s, params %s", s.Profile, s.Clock, secret(jsonText(s.Params)))
	}
	return id
}

// secretPrefix starts an identity value that is a salted digest of a
// value built from a secret.
const secretPrefix = "secret:"

// saltFor is the identity salt of a new folder for r. The shards of one
// sweep share theirs, so mrqa merge can compare the digests of the fields
// built from secrets across shard folders: it is derived from what every
// shard of the sweep has in common and results.json shows anyway (the
// file's digest, the scenario, the variables as recorded, sensitive ones
// as "(sensitive)", and the shard count), never from a secret. A whole
// sweep's is random, so the same secret digests differently in each
// folder.
func saltFor(r *results.Results) string {
	if r.Shard == nil {
		return newSalt()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mrqa shard salt\x00%s\x00%s\x00%d\x00", r.File.SHA256, r.Scenario, r.Shard.Count)
	for _, v := range r.Variables {
		fmt.Fprintf(&b, "%s=%s\x00", v.Name, v.Value)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// shardText names the part of a sweep a folder holds.
func shardText(s *results.Shard) string {
	if s == nil {
		return "the whole sweep (no -shard)"
	}
	return fmt.Sprintf("shard %d/%d", s.Index, s.Count)
}

// newSalt is a fresh random identity salt.
func newSalt() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// measurementRules versions the rules that decide what a point measures
// and how it is judged (the closed loop's handling of failed openings, what
// counts as no data). Change it when they change: points judged under other
// rules are not resumed.
const measurementRules = "2"

// identityDiff names the fields whose values differ, with both values,
// sorted: "script.max_tokens (4 → 6)".
func identityDiff(prev, cur map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(union(prev, cur))) {
		a, b := prev[k], cur[k]
		if a == b {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s → %s)", k, shown(a), shown(b)))
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func shown(v string) string {
	if v == "" {
		return "none"
	}
	if len(v) > 48 {
		return v[:12] + "…"
	}
	return strconv.Quote(v)
}

func jsonText(v any) string {
	b, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// documentsDigest covers each document's id, token count and text.
func documentsDigest(docs []corpus.Document) string {
	var b strings.Builder
	for _, d := range docs {
		fmt.Fprintf(&b, "%s\x00%d\x00%s\n", d.ID, d.Tokens, d.SHA256)
	}
	return digest(b.String())
}

// scriptDigest covers the messages a session sends: the system message, the
// opening and the questions the rounds ask.
func scriptDigest(s *spec.Script, rounds int) string {
	var b strings.Builder
	write := func(t spec.Template) {
		for _, p := range t {
			fmt.Fprintf(&b, "%d\x00%s\x00", p.Kind, p.Text)
		}
		b.WriteString("\n")
	}
	write(s.System)
	write(s.Opening)
	for i := 0; i < rounds && len(s.Questions) > 0; i++ {
		write(s.Questions[i%len(s.Questions)])
	}
	b.WriteString(s.CompletionsTemplate)
	return digest(b.String())
}

// usersIdentity is what an open-loop point's schedule depends on besides
// its rate and the seed: the rates themselves are the sweep's axis, so
// adding one keeps the points already run.
func usersIdentity(u *spec.Users) string {
	return fmt.Sprintf("arrival %s, burstiness %g, think %s %s sigma %g, sessions %d, duration %s, warmup %s, max_active %d",
		u.Arrival, u.Burstiness, u.Think.Distribution, u.Think.Mean, u.Think.Sigma, u.Sessions, u.Duration, u.Warmup, u.MaxActive)
}
