package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Seconds is a duration written to results as a number of seconds. An
// infinite value (a failed turn in a ttft percentile) is written as the string
// "+Inf", since JSON has no infinity.
type Seconds float64

// Sec converts a duration, mapping Inf to +Inf.
func Sec(d time.Duration) Seconds {
	if d == Inf {
		return Seconds(math.Inf(1))
	}
	return Seconds(d.Seconds())
}

// Duration converts back, mapping +Inf to Inf.
func (s Seconds) Duration() time.Duration {
	if math.IsInf(float64(s), 1) {
		return Inf
	}
	return Duration(float64(s))
}

// MarshalJSON implements json.Marshaler.
func (s Seconds) MarshalJSON() ([]byte, error) {
	f := float64(s)
	switch {
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1), math.IsNaN(f):
		return nil, fmt.Errorf("metrics: cannot write %v seconds", f)
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte(`"+Inf"`)) {
		*s = Seconds(math.Inf(1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// The caller names the field; strconv's words would repeat b.
		return fmt.Errorf("%s is not a number of seconds (nor \"+Inf\")", b)
	}
	*s = Seconds(f)
	return nil
}

var durationType = reflect.TypeFor[time.Duration]()

// MarshalJSON writes every duration metric in seconds (see Seconds) under its
// json tag, so results.json reads in the same units as conditions.
//
// A float metric that is not finite (a scraped gauge may read NaN) has no
// JSON form: it is written as 0 and listed in no_data, so that one odd
// figure cannot make results.json unwritable.
func (p Point) MarshalJSON() ([]byte, error) {
	v := reflect.ValueOf(p)
	t := v.Type()
	var bad []string
	for i := 0; i < t.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Float64 && (math.IsNaN(f.Float()) || math.IsInf(f.Float(), 0)) {
			name, _ := jsonName(t.Field(i))
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		nd := make(NoDataSet, len(p.NoData)+len(bad))
		for k, x := range p.NoData {
			nd[k] = x
		}
		for _, n := range bad {
			nd[n] = WhyNotFinite
		}
		p.NoData = nd
		v = reflect.ValueOf(p)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, omitEmpty := jsonName(f)
		if name == "" {
			continue
		}
		fv := v.Field(i)
		if omitEmpty && fv.IsZero() {
			continue
		}
		var val any = fv.Interface()
		switch {
		case f.Type == durationType:
			val = Sec(time.Duration(fv.Int()))
		case fv.Kind() == reflect.Float64 && (math.IsNaN(fv.Float()) || math.IsInf(fv.Float(), 0)):
			val = 0
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, fmt.Errorf("metrics: field %s: %w", name, err)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteString(strconv.Quote(name))
		buf.WriteByte(':')
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Point) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("metrics: point: %w", err)
	}
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _ := jsonName(f)
		msg, ok := raw[name]
		if name == "" || !ok {
			continue
		}
		if f.Type == durationType {
			var s Seconds
			if err := json.Unmarshal(msg, &s); err != nil {
				return fmt.Errorf("metrics: field %s: %w", name, err)
			}
			v.Field(i).SetInt(int64(s.Duration()))
			continue
		}
		if err := json.Unmarshal(msg, v.Field(i).Addr().Interface()); err != nil {
			return fmt.Errorf("metrics: field %s: %w", name, err)
		}
	}
	return nil
}

func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "" || tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	return name, opts == "omitempty"
}
