package dsl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// mrqaSchema is the top-level mrqa { required_version = "…" } block.
var mrqaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
}

// mrqaLabelSummary is the summary of the one diagnostic for a labelled
// mrqa block; the HCL schema check words its own the same way.
const mrqaLabelSummary = "Extraneous label for mrqa"

// versionConstraint is one comma-separated part of required_version.
type versionConstraint struct {
	op       string // =, !=, >, >=, <, <=, ~>
	ver      string // canonical semver: v1.2.0
	segments int    // numeric parts written: 1, 2 or 3 (what ~> allows to grow)
}

// constraintOps are the operators, longest first so ">=" is not read as ">".
var constraintOps = []string{"~>", ">=", "<=", "!=", ">", "<", "="}

// parseRequiredVersion parses "OP VERSION, OP VERSION, …"; a missing
// operator means "=".
func parseRequiredVersion(s string) ([]versionConstraint, error) {
	var out []versionConstraint
	for _, part := range strings.Split(s, ",") {
		c, err := parseConstraint(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseConstraint(p string) (versionConstraint, error) {
	if p == "" {
		return versionConstraint{}, fmt.Errorf("a constraint is empty: write them as \">= 0.3, < 2\"")
	}
	c := versionConstraint{op: "="}
	for _, op := range constraintOps {
		if strings.HasPrefix(p, op) {
			c.op, p = op, strings.TrimSpace(p[len(op):])
			break
		}
	}
	v := "v" + strings.TrimPrefix(p, "v")
	core, _, _ := strings.Cut(v, "-")
	c.segments = strings.Count(core, ".") + 1
	if !semver.IsValid(v) || semver.Build(v) != "" || c.segments > 3 {
		return versionConstraint{}, fmt.Errorf("%q is not a version: write MAJOR.MINOR.PATCH, such as 0.3.1 (MINOR and PATCH may be left out), after one of =, !=, >, >=, <, <=, ~>", p)
	}
	c.ver = semver.Canonical(v)
	return c, nil
}

// allows reports whether the canonical version v meets the constraint.
func (c versionConstraint) allows(v string) bool {
	cmp := semver.Compare(v, c.ver)
	switch c.op {
	case "!=":
		return cmp != 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case "~>":
		return cmp >= 0 && semver.Compare(v, c.pessimisticBound()) < 0
	}
	return cmp == 0
}

// pessimisticBound is the first version ~> excludes: ~> 1.2.3 allows up to
// 1.3.0, ~> 1.2 and ~> 1 up to 2.0.0.
func (c versionConstraint) pessimisticBound() string {
	nums := strings.Split(strings.TrimPrefix(strings.SplitN(c.ver, "-", 2)[0], "v"), ".")
	major, _ := strconv.Atoi(nums[0])
	minor, _ := strconv.Atoi(nums[1])
	if c.segments == 3 {
		return fmt.Sprintf("v%d.%d.0", major, minor+1)
	}
	return fmt.Sprintf("v%d.0.0", major+1)
}

// releaseVersion reads the running mrqa's version as `mrqa version` prints
// it: a tag, or a pseudo-version that follows one, is a version (as
// canonical semver, build metadata such as +dirty kept aside); "devel",
// "(devel)", "" and a pseudo-version that no tag precedes
// (v0.0.0-<time>-<revision>) are not.
func releaseVersion(s string) (string, bool) {
	v := "v" + strings.TrimPrefix(s, "v")
	if !semver.IsValid(v) {
		return "", false
	}
	if module.IsPseudoVersion(v) {
		base, err := module.PseudoVersionBase(strings.TrimSuffix(v, semver.Build(v)))
		if err != nil || base == "" {
			return "", false
		}
	}
	return v, true
}

// versionCheck is what the mrqa block asks of the running mrqa.
type versionCheck struct {
	text  string    // required_version as written
	rng   hcl.Range // its expression
	diags hcl.Diagnostics
}

// findVersionCheck reads the mrqa blocks of the parsed files (even partly
// parsed ones: a file a newer mrqa would read may not parse here). A
// second block, or a required_version that is not a valid literal, is a
// diagnostic; text is empty when there is nothing to check.
func findVersionCheck(files []*hcl.File) versionCheck {
	var vc versionCheck
	var first *hclsyntax.Block
	for _, f := range files {
		body, ok := bodyOf(f)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != "mrqa" {
				continue
			}
			if first != nil {
				vc.diags = append(vc.diags, duplicateMrqa(b, first))
				continue
			}
			first = b
		}
	}
	if first != nil {
		vc.read(first.AsHCLBlock())
	}
	return vc
}

func bodyOf(f *hcl.File) (*hclsyntax.Body, bool) {
	if f == nil {
		return nil, false
	}
	b, ok := f.Body.(*hclsyntax.Body)
	return b, ok
}

func duplicateMrqa(b, first *hclsyntax.Block) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate mrqa block",
		Detail:   fmt.Sprintf("An mrqa block was already declared at %s. A configuration has at most one.", where(first.DefRange())),
		Subject:  rangeOf(b.DefRange()),
	}
}

// read takes required_version from the block: a literal string of valid
// constraints.
func (vc *versionCheck) read(b *hcl.Block) {
	if len(b.Labels) > 0 {
		vc.diags = append(vc.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: mrqaLabelSummary,
			Detail: "The mrqa block takes no label: write mrqa { required_version = \"…\" }.", Subject: rangeOf(b.LabelRanges[0])})
	}
	content, diags := b.Body.Content(mrqaSchema)
	vc.diags = append(vc.diags, diags...)
	a := content.Attributes["required_version"]
	if a == nil {
		return
	}
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() || val.IsNull() || !val.IsKnown() || val.Type() != cty.String {
		vc.diags = append(vc.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid required_version",
			Detail:  "required_version must be a string literal, such as \">= 0.3, < 2\": it is read before variables exist.",
			Subject: rangeOf(a.Expr.Range())})
		return
	}
	if _, err := parseRequiredVersion(val.AsString()); err != nil {
		vc.diags = append(vc.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid required_version",
			Detail: err.Error() + ".", Subject: rangeOf(a.Expr.Range())})
		return
	}
	vc.text, vc.rng = val.AsString(), a.Expr.Range()
}

// judge checks the running version against the constraint: refused is
// the one error to stop with, before anything else; otherwise the
// diagnostic, if any, is a warning that a build without a version checks
// nothing.
func (vc versionCheck) judge(running string) (d *hcl.Diagnostic, refused bool) {
	if vc.text == "" {
		return nil, false
	}
	v, ok := releaseVersion(running)
	if !ok {
		return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "mrqa version not checked",
			Detail: fmt.Sprintf("This configuration requires mrqa %s, but this build of mrqa has no release version (%s: go run, go test, a git worktree, or a build from a commit no release tag precedes), so the requirement is not checked.",
				vc.text, orDevel(running)),
			Subject: rangeOf(vc.rng)}, false
	}
	cs, _ := parseRequiredVersion(vc.text) // read already checked it
	for _, c := range cs {
		if !c.allows(v) {
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported mrqa version",
				Detail: fmt.Sprintf("This configuration requires mrqa %s; this is mrqa %s. Run it with an mrqa that meets the requirement, or change required_version in the mrqa block.",
					vc.text, strings.TrimPrefix(running, "v")),
				Subject: rangeOf(vc.rng)}, true
		}
	}
	return nil, false
}

func orDevel(s string) string {
	if s == "" {
		return "devel"
	}
	return s
}

// IsReleaseVersion reports whether s, a version as `mrqa version` prints
// it, is a release version: a tag, or a pseudo-version that follows one.
func IsReleaseVersion(s string) bool {
	_, ok := releaseVersion(s)
	return ok
}
