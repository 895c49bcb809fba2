package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

func builtin(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMissingReasons: every OS family a runtime of the built-in catalog
// has no variant on says why, so that `lambdaimg list` can.
func TestMissingReasons(t *testing.T) {
	c := builtin(t)
	for i := range c.Runtimes {
		r := &c.Runtimes[i]
		for o, why := range c.Missing(r) {
			if why == "" {
				t.Errorf("%s has no variant on %s and the catalog does not say why (runtimes[%s].missing or languages.%s.missing)", r.ID, o, r.ID, r.Language)
			}
		}
	}
}

// TestAL1Selection: asking for Amazon Linux 2018.03 explains that the RIC
// does not support it and names the OSes that work.
func TestAL1Selection(t *testing.T) {
	c := builtin(t)
	for _, name := range []string{"al2018.03", "alami", "AL1"} {
		_, err := c.Targets(catalog.Selector{Runtimes: []string{"python3.12"}, Variants: []string{name}})
		if !errors.Is(err, catalog.ErrAL1) {
			t.Fatalf("%s: got %v, want ErrAL1", name, err)
		}
		for _, want := range []string{"does not support Amazon Linux 2018.03", "al2023", "debian", "aws variant"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %q", name, err, want)
			}
		}
	}
}

// TestNoVariantReason: selecting an OS a runtime lacks gives the reason.
func TestNoVariantReason(t *testing.T) {
	_, err := builtin(t).Targets(catalog.Selector{Runtimes: []string{"nodejs20.x"}, Variants: []string{"al2"}})
	if err == nil || !strings.Contains(err.Error(), "glibc 2.28") {
		t.Errorf("got %v, want the reason (glibc 2.28)", err)
	}
}
