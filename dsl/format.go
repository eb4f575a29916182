package dsl

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical layout (hclwrite's, as terraform fmt):
// indentation, aligned equals signs, spacing around operators. A file with
// syntax errors is returned unchanged with its diagnostics.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	if diags := checkNesting(src, filename, false); diags.HasErrors() {
		return src, diags
	}
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return src, diags
	}
	return hclwrite.Format(src), nil
}
