package smoke

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Event is one invocation and what its response must hold.
type Event struct {
	Name    string
	Payload json.RawMessage
	// Expect is compared with the response: every key of an expected
	// object must be in the response with a matching value (other keys may
	// be there too). A string "*" matches any value; "~text" matches a
	// string that contains text, ignoring case. Nil expects nothing.
	Expect json.RawMessage
}

// Match compares a response with an expectation and returns the
// differences, one per line, or nil.
func Match(expect, got []byte) []string {
	var want, have any
	if err := json.Unmarshal(expect, &want); err != nil {
		return []string{fmt.Sprintf("the expectation is not JSON: %v", err)}
	}
	if err := json.Unmarshal(got, &have); err != nil {
		// A non-JSON response can still equal a JSON string expectation.
		if s, ok := want.(string); ok && matchString(s, string(got)) {
			return nil
		}
		return []string{fmt.Sprintf("the response is not JSON: %q", truncate(string(got), 200))}
	}
	return match("$", want, have)
}

func match(path string, want, have any) []string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", path, show(have))}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			hv, ok := h[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing (want %s)", path, k, show(w[k])))
				continue
			}
			diffs = append(diffs, match(path+"."+k, w[k], hv)...)
		}
		return diffs
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(have))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, match(fmt.Sprintf("%s[%d]", path, i), w[i], h[i])...)
		}
		return diffs
	case string:
		if w == "*" && have != nil {
			return nil
		}
		if hs, ok := have.(string); ok && matchString(w, hs) {
			return nil
		}
		return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(have))}
	default:
		if fmt.Sprint(want) == fmt.Sprint(have) {
			return nil
		}
		return []string{fmt.Sprintf("%s: want %s, got %s", path, show(want), show(have))}
	}
}

func matchString(want, have string) bool {
	if strings.HasPrefix(want, "~") {
		return strings.Contains(strings.ToLower(have), strings.ToLower(want[1:]))
	}
	return want == "*" || want == have
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// compact re-encodes JSON without insignificant space, for messages.
func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}
