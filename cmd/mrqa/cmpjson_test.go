package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmpjson A B PATH... checks that the JSON files A and B hold equal values
// at each PATH: keys separated by dots, * for every element of an array
// (both arrays as long). With !, some PATH must differ.
func cmdCmpJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: cmpjson A B PATH...")
	}
	a, b := readJSON(ts, args[0]), readJSON(ts, args[1])
	var diffs []string
	for _, path := range args[2:] {
		va, vb := jsonAt(a, path), jsonAt(b, path)
		if len(va) == 0 {
			ts.Fatalf("cmpjson: %s has nothing at %s", args[0], path)
		}
		if !reflect.DeepEqual(va, vb) {
			diffs = append(diffs, fmt.Sprintf("%s: %.200s vs %.200s", path, jsonText(va), jsonText(vb)))
		}
	}
	switch {
	case !neg && len(diffs) > 0:
		ts.Fatalf("%s and %s differ at\n%s", args[0], args[1], strings.Join(diffs, "\n"))
	case neg && len(diffs) == 0:
		ts.Fatalf("%s and %s are equal at %s", args[0], args[1], strings.Join(args[2:], ", "))
	}
}

func readJSON(ts *testscript.TestScript, name string) any {
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(name)), &v); err != nil {
		ts.Fatalf("cmpjson: %s: %v", name, err)
	}
	return v
}

// jsonAt lists the values at path in v, keyed by their concrete paths;
// a path that leads nowhere gives none.
func jsonAt(v any, path string) map[string]any {
	out := map[string]any{}
	var walk func(v any, keys []string, at string)
	walk = func(v any, keys []string, at string) {
		if len(keys) == 0 {
			out[at] = v
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if e, ok := x[keys[0]]; ok {
				walk(e, keys[1:], at+"."+keys[0])
			}
		case []any:
			if keys[0] != "*" {
				return
			}
			out[at+".len"] = len(x)
			for i, e := range x {
				walk(e, keys[1:], at+"."+strconv.Itoa(i))
			}
		}
	}
	walk(v, strings.Split(path, "."), "")
	return out
}
