package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A gateway listing thousands of models gets a short error: a few names,
// escaped, and how many there are.
func TestPreflightManyModels(t *testing.T) {
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = fmt.Sprintf("org/model-%04d", i)
	}
	ids[1] = "org/\x1b[2Jmodel-0001"
	list := map[string]any{"object": "list", "data": []map[string]string{}}
	for _, id := range ids {
		list["data"] = append(list["data"].([]map[string]string), map[string]string{"id": id, "object": "model"})
	}
	body, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) })
	tests := []struct {
		model, want string
	}{
		{"missing", `model "missing" is not served by`},
		{"", "serves several models"},
	}
	for _, tc := range tests {
		_, err := mustClient(t, Config{BaseURL: ts.URL + "/v1", Model: tc.model}).Preflight(context.Background())
		if err == nil {
			t.Fatalf("model %q: no error", tc.model)
		}
		msg := err.Error()
		for _, w := range []string{tc.want, `org/model-0000, org/\x1b[2Jmodel-0001`, "org/model-0004 and 4995 more (5000 in all)"} {
			if !strings.Contains(msg, w) {
				t.Errorf("model %q: error lacks %q: %.300s", tc.model, w, msg)
			}
		}
		if strings.Contains(msg, "org/model-0005") || strings.Contains(msg, "\x1b") || len(msg) > 300 {
			t.Errorf("model %q: error of %d bytes names too much: %.300s", tc.model, len(msg), msg)
		}
	}
}
