package pins_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/pins"
)

// TestCatalogPinsAreServed asks the real registries about every version the
// built-in catalog pins. It fails on each missing pin and logs one line per
// pin (go test -run TestCatalogPinsAreServed -v ./pkg/pins). When a
// registry cannot be asked, it fails under CI=true (the CI machine reaches
// npm, PyPI and Maven Central) and skips otherwise.
func TestCatalogPinsAreServed(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if testing.Short() && !ci {
		t.Skip("-short: not asking public registries")
	}
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pins.Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	// The checked registries must have something to check, or this test
	// could only pass.
	for _, r := range []pins.Registry{pins.NPM, pins.PyPI, pins.MavenCentral} {
		if !hasRegistry(ps, r) {
			t.Errorf("the catalog pins nothing from %s: Collect lost the %s pins", r, r)
		}
	}
	checker, err := pins.NewChecker(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var missing, failed []pins.Result
	for _, r := range checker.Check(ctx, ps) {
		t.Log(r)
		switch {
		case r.Status == pins.Missing:
			missing = append(missing, r)
		case r.Err != nil:
			failed = append(failed, r)
		}
	}
	for _, r := range missing {
		t.Errorf("missing: %v", r)
	}
	if len(failed) == 0 {
		return
	}
	for _, r := range failed {
		if ci {
			t.Errorf("CI=true and %s could not be asked: %v", r.Pin.Registry, r)
		} else {
			t.Logf("could not be asked: %v", r)
		}
	}
	if !t.Failed() {
		t.Skipf("%d pins could not be checked (offline?); CI=true makes that a failure", len(failed))
	}
}

func hasRegistry(ps []pins.Pin, r pins.Registry) bool {
	for _, p := range ps {
		if p.Registry == r {
			return true
		}
	}
	return false
}
