package dsl

import (
	"strings"
	"testing"
)

// TestUndeclaredVarFlag checks the error for a -var the file does not
// declare: it is placed on the flag's value as the other -var diagnostics
// are, lists the declared variables by name in declaration order, and shows
// no value: neither the flag's (it may be a mistyped secret) nor any
// variable's.
func TestUndeclaredVarFlag(t *testing.T) {
	const declares = `
variable "base_url" {
  type    = string
  default = "http://127.0.0.1:8000/v1"
}
variable "api_key" {
  type      = string
  sensitive = true
  default   = "sk-DEFAULT-SECRET"
}
variable "model" {
  type    = string
  default = "m-visible-default"
}
target "t" {
  base_url = var.base_url
  api_key  = var.api_key
  model    = var.model
}
`
	const declaresNone = `
target "t" {
  base_url = "http://127.0.0.1:8000/v1"
}
`
	tests := []struct {
		name   string
		src    string
		flag   string
		detail string
	}{
		{"typo", declares, "api_kye",
			`-var api_kye=... sets a variable that the configuration does not declare. Did you mean "api_key"? It declares: base_url, api_key, model.`},
		{"unlike any", declares, "nope",
			`-var nope=... sets a variable that the configuration does not declare. It declares: base_url, api_key, model.`},
		{"no variables", declaresNone, "nope",
			`-var nope=... sets a variable that the configuration does not declare. It declares none.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := LoadSource("test.hcl", []byte(tt.src), Options{Vars: map[string]string{tt.flag: "sk-FLAG-SECRET"}, Env: testEnv})
			var found bool
			for _, d := range loaded.Diags {
				if d.Summary != "Value for undeclared variable" {
					continue
				}
				found = true
				if d.Detail != tt.detail {
					t.Errorf("detail = %q\nwant     %q", d.Detail, tt.detail)
				}
				if d.Subject == nil || d.Subject.Filename != "<value for var."+tt.flag+">" || d.Subject.Start.Line != 1 || d.Subject.Start.Column != 1 {
					t.Errorf("subject = %v, want <value for var.%s>:1:1", d.Subject, tt.flag)
				}
			}
			if !found {
				t.Fatalf("no undeclared-variable error in %v", loaded.Diags)
			}
			var out strings.Builder
			if err := loaded.WriteDiagnostics(&out); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"sk-FLAG-SECRET", "sk-DEFAULT-SECRET", "m-visible-default"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("diagnostics show the value %q:\n%s", secret, out.String())
				}
			}
			if !strings.Contains(out.String(), "on <value for var."+tt.flag+">:1:1:") {
				t.Errorf("diagnostics do not place the error on the flag:\n%s", out.String())
			}
		})
	}
}
