package dsl

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/mrqa-dev/mrqa/runtime/sim/profile"
	"github.com/mrqa-dev/mrqa/runtime/spec"
	"github.com/zclconf/go-cty/cty"
)

var targetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "base_url"},
		{Name: "model"},
		{Name: "api"},
		{Name: "api_key"},
		{Name: "headers"},
		{Name: "extra_body"},
		{Name: "down_after"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "timeouts"},
		{Type: "tls"},
		{Type: "metrics"},
		{Type: "between_points"},
		{Type: "simulator"},
	},
}

// decodeTargetBlock decodes target "NAME" { ... }.
func (l *loader) decodeTargetBlock(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b) {
		return
	}
	if prev, ok := l.targets[name]; ok {
		l.duplicate(b, prev.def)
		return
	}
	t := &spec.Target{
		Name:      name,
		API:       spec.DefaultAPI,
		DownAfter: spec.DefaultDownAfter,
		Timeouts: spec.Timeouts{
			Connect:    spec.DefaultConnectTimeout,
			FirstToken: defaultFirstTokenTimeout,
			Idle:       defaultIdleTimeout,
			Total:      defaultTotalTimeout,
		},
	}
	l.targets[name] = &declared[*spec.Target]{t, b.DefRange}

	content, diags := b.Body.Content(targetSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	attrs := content.Attributes
	blocks := l.singleBlocks(content, "timeouts", "tls", "metrics", "between_points", "simulator")

	t.Model = l.stringAttr(attrs["model"], "")
	t.API = l.oneOf(attrs["api"], spec.DefaultAPI, spec.APIChat, spec.APICompletions)
	t.DownAfter = l.intAttr(attrs["down_after"], spec.DefaultDownAfter, 1)
	if a := attrs["api_key"]; a != nil {
		t.APIKey = l.stringAttr(a, "")
		l.sensitiveExpr(a.Expr, cty.StringVal(t.APIKey))
	}
	if a := attrs["headers"]; a != nil {
		t.Headers = l.stringMap(a)
		l.sensitiveHeaders(a, t.Headers)
	}
	t.ExtraBody = l.jsonObject(attrs["extra_body"])

	if sb := blocks["simulator"]; sb != nil {
		t.Simulator = l.decodeSimulatorBlock(sb)
		if a := attrs["base_url"]; a != nil {
			l.errorf(a.NameRange, "Conflicting target settings",
				"target %q has a simulator block, which serves it on an address chosen at run time; remove base_url.", name)
		}
	} else if a := attrs["base_url"]; a != nil {
		t.BaseURL = l.urlAttr(a)
	} else {
		l.errorf(content.MissingItemRange, "Missing base_url",
			"target %q needs base_url (the server's OpenAI-compatible root, e.g. \"http://127.0.0.1:8000/v1\") or a simulator block.", name)
	}
	if tb := blocks["timeouts"]; tb != nil {
		l.decodeTimeoutsBlock(tb, &t.Timeouts)
	}
	if tb := blocks["tls"]; tb != nil {
		t.TLS = l.decodeTLSBlock(tb)
		if t.Simulator != nil {
			l.errorf(tb.DefRange, "Conflicting target settings",
				"target %q has a simulator block, which serves plain HTTP on 127.0.0.1; remove the tls block.", name)
		}
	}
	if mb := blocks["metrics"]; mb != nil {
		t.Metrics = l.decodeMetricsBlock(mb, t)
	}
	if bb := blocks["between_points"]; bb != nil {
		t.Between = l.decodeBetweenPointsBlock(bb)
	}
}

// sensitiveHeaders treats every header value as a secret, redacting only
// the values when the headers are written out as an object.
func (l *loader) sensitiveHeaders(a *hcl.Attribute, headers map[string]string) {
	for _, v := range headers {
		l.secrets[v] = true
	}
	if oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			l.sensitives = append(l.sensitives, item.ValueExpr.Range())
			l.sensitiveExprs[item.ValueExpr.Range()] = item.ValueExpr
		}
		return
	}
	if _, ok := l.srcs[a.Expr.Range().Filename]; ok {
		l.sensitives = append(l.sensitives, a.Expr.Range())
		l.sensitiveExprs[a.Expr.Range()] = a.Expr
	}
}

// addURLCredentials makes the credentials of s, when it is a URL with
// userinfo, secrets: the userinfo as written and the password alone. The
// userinfo is found in the text, so that a URL Go would not parse (a port
// still to be filled in) keeps its credentials hidden too.
func (l *loader) addURLCredentials(s string) {
	start, end := userinfoSpan(s)
	if end <= start {
		return
	}
	info := s[start:end]
	l.secrets[info] = true
	if _, p, ok := strings.Cut(info, ":"); ok && p != "" {
		l.secrets[p] = true
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		l.secrets[u.User.String()] = true // as Go writes it back, escaped
	}
}

// urlAttr reads an http(s) URL; credentials in it become secrets.
func (l *loader) urlAttr(a *hcl.Attribute) string {
	val, present, _ := l.typed(a, cty.String)
	if !present {
		return ""
	}
	s := val.AsString()
	u, err := url.Parse(s)
	shown := l.shown(s)
	if err == nil && u.User != nil {
		l.addURLCredentials(s)
		shown = fmt.Sprintf("%q", u.Redacted())
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		if err != nil {
			shown = "a malformed URL" // url.Parse failed: it may hold anything
		}
		l.errorf(a.Expr.Range(), "Invalid URL",
			"%s must be an http:// or https:// URL with a host, such as \"http://127.0.0.1:8000/v1\", not %s.", a.Name, shown)
	}
	return s
}

var timeoutsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "connect"}, {Name: "first_token"}, {Name: "idle"}, {Name: "total"},
}}

func (l *loader) decodeTimeoutsBlock(b *hcl.Block, t *spec.Timeouts) {
	content, diags := b.Body.Content(timeoutsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return
	}
	t.Connect = l.durationAttr(content.Attributes["connect"], t.Connect)
	t.FirstToken = l.durationAttr(content.Attributes["first_token"], t.FirstToken)
	t.Idle = l.durationAttr(content.Attributes["idle"], t.Idle)
	t.Total = l.durationAttr(content.Attributes["total"], t.Total)
}

var tlsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "ca_file"}, {Name: "insecure_skip_verify"}, {Name: "server_name"}, {Name: "cert_file"}, {Name: "key_file"},
}}

// decodeTLSBlock decodes tls { ca_file, insecure_skip_verify, server_name,
// cert_file, key_file }; file paths are relative to the scenario file.
func (l *loader) decodeTLSBlock(b *hcl.Block) *spec.TLS {
	content, diags := b.Body.Content(tlsSchema)
	l.diags = append(l.diags, diags...)
	t := &spec.TLS{}
	if content == nil {
		return t
	}
	attrs := content.Attributes
	t.CAFile = l.pathAttr(attrs["ca_file"])
	t.CertFile = l.pathAttr(attrs["cert_file"])
	t.KeyFile = l.pathAttr(attrs["key_file"])
	t.ServerName = l.stringAttr(attrs["server_name"], "")
	t.InsecureSkipVerify = l.boolAttr(attrs["insecure_skip_verify"], false)
	if (t.CertFile == "") != (t.KeyFile == "") {
		rng := b.DefRange
		for _, a := range []*hcl.Attribute{attrs["cert_file"], attrs["key_file"]} {
			if a != nil {
				rng = a.Range
			}
		}
		l.errorf(rng, "Incomplete client certificate",
			"cert_file (the client certificate) and key_file (its private key) go together: set both, as PEM files, or neither.")
	}
	return t
}

// sameOrigin reports whether two URLs have the same scheme and host.
func sameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ua.Host != "" && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

// pathAttr reads a file path, resolved against the scenario file's
// directory; a missing file is a warning, as for other paths.
func (l *loader) pathAttr(a *hcl.Attribute) string {
	p := l.stringAttr(a, "")
	if a == nil || p == "" {
		return ""
	}
	l.warnMissing(a.Expr.Range(), a.Name, p)
	if !filepath.IsAbs(p) {
		p = filepath.Join(dirOf(a.Expr.Range()), p)
	}
	return p
}

var metricsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "interval"}, {Name: "include"}, {Name: "headers"}, {Name: "bearer_token"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "tls"}},
}

// decodeMetricsBlock decodes metrics { url, interval, include, headers,
// bearer_token, tls }; what it leaves out is the target's (tls; headers and
// api_key as the bearer token only when the url is on the target's host).
func (l *loader) decodeMetricsBlock(b *hcl.Block, t *spec.Target) *spec.Metrics {
	content, diags := b.Body.Content(metricsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return nil
	}
	m := &spec.Metrics{Interval: defaultMetricsInterval, TLS: t.TLS}
	if tb := l.singleBlocks(content, "tls")["tls"]; tb != nil {
		m.TLS = l.decodeTLSBlock(tb)
	}
	if a := content.Attributes["headers"]; a != nil {
		m.Headers = l.stringMap(a)
		l.sensitiveHeaders(a, m.Headers)
	}
	if a := content.Attributes["bearer_token"]; a != nil {
		m.BearerToken = l.stringAttr(a, "")
		l.sensitiveExpr(a.Expr, cty.StringVal(m.BearerToken))
	}
	if a := content.Attributes["url"]; a != nil {
		m.URL = l.urlAttr(a)
	}
	// The target's credentials go only where the target is: another host
	// gets none unless the block names its own.
	if sameOrigin(m.URL, t.BaseURL) {
		if content.Attributes["headers"] == nil {
			m.Headers = t.Headers
		}
		if content.Attributes["bearer_token"] == nil {
			m.BearerToken = t.APIKey
		}
	} else if content.Attributes["headers"] == nil && content.Attributes["bearer_token"] == nil && (t.APIKey != "" || len(t.Headers) > 0) {
		l.warnf(content.Attributes["url"].Expr.Range(), "Metrics on another host",
			"metrics.url is not on target.%s's host, so the target's api_key and headers are not sent with the scrape. If /metrics needs them, set bearer_token or headers in the metrics block.", t.Name)
	}
	if a := content.Attributes["interval"]; a != nil {
		m.Interval = l.durationAttr(a, defaultMetricsInterval)
		if m.Interval == 0 {
			l.errorf(a.Expr.Range(), "Invalid duration", "interval must be longer than zero.")
			m.Interval = defaultMetricsInterval
		}
	}
	m.Include = l.stringList(content.Attributes["include"])
	return m
}

var betweenPointsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "reset_prefix_cache"}, {Name: "cooldown"},
}}

func (l *loader) decodeBetweenPointsBlock(b *hcl.Block) spec.BetweenPoints {
	content, diags := b.Body.Content(betweenPointsSchema)
	l.diags = append(l.diags, diags...)
	if content == nil {
		return spec.BetweenPoints{}
	}
	return spec.BetweenPoints{
		ResetPrefixCache: l.boolAttr(content.Attributes["reset_prefix_cache"], false),
		Cooldown:         l.durationAttr(content.Attributes["cooldown"], 0),
	}
}

var simulatorSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "profile"}, {Name: "clock"}, {Name: "profile_file"},
}}

// decodeSimulatorBlock decodes simulator { profile, clock, ... }: the
// further fields are the ones runtime/sim's schema lists.
func (l *loader) decodeSimulatorBlock(b *hcl.Block) *spec.Simulator {
	before := len(l.diags.Errs())
	content, rest, diags := b.Body.PartialContent(simulatorSchema)
	l.diags = append(l.diags, diags...)
	s := &spec.Simulator{Profile: profile.Default, Clock: defaultClock, Params: map[string]any{}}
	if content == nil {
		return s
	}
	s.Profile = l.oneOf(content.Attributes["profile"], profile.Default, profile.Names()...)
	s.Clock = l.oneOf(content.Attributes["clock"], defaultClock, spec.ClockReal, spec.ClockVirtual)
	l.loadProfileFile(s, content.Attributes["profile_file"], content.Attributes["profile"] != nil)

	attrs, diags := rest.JustAttributes()
	l.diags = append(l.diags, diags...)
	schema := map[string]profile.Param{}
	var names []string
	for _, p := range profile.Schema() {
		schema[p.Name] = p
		names = append(names, p.Name)
	}
	ok := !diags.HasErrors()
	for _, a := range sortedAttrs(attrs) {
		name := a.Name
		p, known := schema[name]
		if !known {
			detail := fmt.Sprintf("The simulator has no field named %q; it takes profile, clock, profile_file and the fields docs/language.md lists.", name)
			if s := suggest(name, append(names, "profile", "clock", "profile_file")); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			l.errorf(a.NameRange, "Unsupported argument", "%s", detail)
			ok = false
			continue
		}
		var v any
		switch p.Kind {
		case profile.KindNumber:
			val, present, good := l.typed(a, cty.Number)
			if !present {
				ok = ok && good
				continue
			}
			v, _ = val.AsBigFloat().Float64()
		case profile.KindString:
			val, present, good := l.typed(a, cty.String)
			if !present {
				ok = ok && good
				continue
			}
			v = val.AsString()
		case profile.KindBool:
			val, present, good := l.typed(a, cty.Bool)
			if !present {
				ok = ok && good
				continue
			}
			v = val.True()
		case profile.KindDuration:
			val, present, good := l.typed(a, cty.String)
			if !present {
				ok = ok && good
				continue
			}
			d, good := l.parseDuration(val.AsString(), a.Expr.Range(), name)
			if !good {
				ok = false
				continue
			}
			v = d
		}
		s.Params[name] = v
	}
	if ok && len(l.diags.Errs()) == before {
		l.checkSimulator(s, b, attrs)
	}
	return s
}

// loadProfileFile applies simulator { profile_file = "…" }: the file's base
// profile (unless the block names one) and its params, which the block's
// own fields then override.
func (l *loader) loadProfileFile(s *spec.Simulator, a *hcl.Attribute, ownProfile bool) {
	p := l.stringAttr(a, "")
	if a == nil || p == "" {
		return
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dirOf(a.Expr.Range()), p)
	}
	loaded, err := profile.ReadFile(p)
	if err != nil {
		l.errorf(a.Expr.Range(), "Invalid profile file",
			"%s. profile_file names a JSON profile file, such as the one mrqa calibrate writes, relative to this scenario file.", err)
		return
	}
	s.ProfileFile = p
	if !ownProfile {
		s.Profile = loaded.Base
	}
	for k, v := range loaded.Params {
		s.Params[k] = v
	}
}

// checkSimulator lets runtime/sim check ranges and the combination of
// fields, pointing at the field at fault when one alone is.
func (l *loader) checkSimulator(s *spec.Simulator, b *hcl.Block, attrs hcl.Attributes) {
	_, err := profile.Build(s)
	if err == nil {
		return
	}
	blamed := false
	for _, a := range sortedAttrs(attrs) {
		one := &spec.Simulator{Profile: s.Profile, Clock: s.Clock, Params: map[string]any{a.Name: s.Params[a.Name]}}
		if _, err := profile.Build(one); err != nil {
			l.errorf(a.Expr.Range(), "Invalid simulator configuration", "%s.", err)
			blamed = true
		}
	}
	if !blamed {
		l.errorf(b.DefRange, "Invalid simulator configuration", "%s.", err)
	}
}
