package pipeline

import (
	"fmt"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// Deprecations returns one warning per deprecated runtime among targets,
// naming AWS's dates.
func Deprecations(targets []catalog.Target, now time.Time) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range targets {
		r := t.Runtime
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		if d, past := r.Deprecation(now); past {
			out = append(out, fmt.Sprintf("%s was deprecated by AWS on %s; Lambda blocks creating functions on it from %s and updating them from %s",
				r.ID, d.Format("2006-01-02"), orUnknown(r.BlockCreate), orUnknown(r.BlockUpdate)))
		}
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "an unannounced date"
	}
	return s
}
