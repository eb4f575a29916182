package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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

// Models returns each entry's id and stated context length in the server's
// order, and explains a failure as preflight does, without the credentials.
func TestModels(t *testing.T) {
	const key = "sk-models-secret-123"
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"b","max_model_len":32768},{"id":"a"}]}`))
		case "/auth/v1/models":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"message":"bad key ` + r.Header.Get("Authorization") + `"}}`))
		case "/text/v1/models":
			_, _ = w.Write([]byte(`<html>hello</html>`))
		default:
			http.NotFound(w, r)
		}
	})
	tests := []struct {
		name, base string
		want       []Model
		status     int
		errHas     []string
	}{
		{"listed", ts.URL + "/v1", []Model{{"b", 32768}, {"a", 0}}, 200, nil},
		{"rejected key", ts.URL + "/auth/v1", nil, 401, []string{"http_401", "check api_key and headers"}},
		{"no /v1", ts.URL, nil, 404, []string{"http_404", `add /v1: base_url = "` + ts.URL + `/v1"`}},
		{"not a list", ts.URL + "/text/v1", nil, 200, []string{"not a model list"}},
		{"down", "http://" + closedAddr(t) + "/v1", nil, 0, []string{"cannot reach the target", "refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, status, err := mustClient(t, Config{BaseURL: tc.base, APIKey: key}).Models(context.Background())
			if status != tc.status || !slices.Equal(got, tc.want) {
				t.Errorf("Models = %v, status %d; want %v, %d", got, status, tc.want, tc.status)
			}
			if (err != nil) != (tc.errHas != nil) {
				t.Fatalf("error %v, want one containing %q", err, tc.errHas)
			}
			if err == nil {
				return
			}
			for _, w := range tc.errHas {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error carries the api key: %v", err)
			}
		})
	}
}
