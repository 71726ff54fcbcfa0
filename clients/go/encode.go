package verk

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
)

// encodeQuery turns a *XListOptions into query parameters: the `url` tag names each one;
// zero values (and nil *bool) are not sent.
func encodeQuery(opts any) url.Values {
	values := url.Values{}
	v := reflect.ValueOf(opts)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return values
	}
	v = reflect.Indirect(v)
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("url")
		if name == "" {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			if f.String() != "" {
				values.Set(name, f.String())
			}
		case reflect.Int:
			if f.Int() != 0 {
				values.Set(name, strconv.FormatInt(f.Int(), 10))
			}
		case reflect.Float64:
			if f.Float() != 0 {
				values.Set(name, strconv.FormatFloat(f.Float(), 'f', -1, 64))
			}
		case reflect.Pointer:
			if !f.IsNil() && f.Elem().Kind() == reflect.Bool {
				values.Set(name, strconv.FormatBool(f.Elem().Bool()))
			}
		}
	}
	return values
}

// marshalWithEmpty encodes v (omitempty leaves unset fields out) and then adds each field
// named in send with its empty value: null for a nullable field, [] for a list.
func marshalWithEmpty(v any, send []string, empty map[string]string) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil || len(send) == 0 {
		return raw, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	for _, name := range send {
		value, ok := empty[name]
		if !ok {
			return nil, fmt.Errorf("verk: %q cannot be sent empty (it may be: %v)", name, keys(empty))
		}
		if _, set := fields[name]; !set {
			fields[name] = json.RawMessage(value)
		}
	}
	return json.Marshal(fields)
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Bool returns a pointer to b, for the optional booleans of requests and list options
// (false must be sent, so they are pointers).
func Bool(b bool) *bool { return &b }

// Int returns a pointer to n, for optional integers where 0 must be sent (gracePeriodSeconds).
func Int(n int) *int { return &n }
