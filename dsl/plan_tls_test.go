package dsl

import (
	"strings"
	"testing"
)

// validate's plan shows the tls and metrics settings and names the
// credentials without showing them.
func TestPlanTLSAndMetrics(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   []string
	}{
		{
			name: "the target's settings throughout",
			target: `api_key = "sk-plan-SECRET"
  headers = { "x-team" = "hdr-plan-SECRET" }
  tls {
    ca_file     = "/etc/mrqa/ca.pem"
    server_name = "gpu.internal"
  }
  metrics { url = "https://user:url-plan-SECRET@gpu.example:8443/metrics" }`,
			want: []string{
				"  tls     ca_file /etc/mrqa/ca.pem, server_name gpu.internal\n",
				"  metrics https://user:xxxxx@gpu.example:8443/metrics every 1s, bearer token (sensitive, the target's api_key), headers x-team (values sensitive, the target's), the target's tls\n",
			},
		},
		{
			name: "the metrics block's own",
			target: `metrics {
    url          = "https://gpu.example:9100/metrics"
    interval     = "5s"
    bearer_token = "tok-plan-SECRET"
    headers      = { "x-gateway" = "gw-plan-SECRET", "x-b" = "b-plan-SECRET" }
    tls {
      insecure_skip_verify = true
      cert_file            = "/c.pem"
      key_file             = "/k.pem"
    }
  }`,
			want: []string{
				"  metrics https://gpu.example:9100/metrics every 5s, bearer token (sensitive), headers x-b, x-gateway (values sensitive), tls: client certificate /c.pem with key /k.pem, insecure_skip_verify: the server's certificate is not checked\n",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustLoad(t, withTarget(tc.target), Options{})
			var b strings.Builder
			WritePlan(&b, f)
			plan := b.String()
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			if strings.Contains(plan, "SECRET") {
				t.Errorf("plan shows a secret:\n%s", plan)
			}
		})
	}
}
