package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/lambdaimg/lambdaimg"
	"github.com/lambdaimg/lambdaimg/pkg/build"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/smoke"
)

func builtin(t *testing.T) (*catalog.Catalog, *render.Templates) {
	t.Helper()
	sub, err := fs.Sub(lambdaimg.Templates, "templates")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := render.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(lambdaimg.CatalogName, lambdaimg.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	return c, tm
}

// TestRunRefusesBadRequests: what the user must change is a RequestError
// naming the part, found before BuildKit is asked (no daemon runs here:
// the address answers nothing and may not be started).
func TestRunRefusesBadRequests(t *testing.T) {
	c, tm := builtin(t)
	dir := t.TempDir()
	nowhere := buildkit.Options{Addr: "unix://" + filepath.Join(dir, "none.sock"), NoStart: true, StateDir: dir}
	sel := func(rt, os string) catalog.Selector {
		return catalog.Selector{Runtimes: []string{rt}, Variants: []string{os}}
	}
	cases := []struct {
		name  string
		req   Request
		field string
		is    error
	}{
		{"nothing selected", Request{}, FieldSelect, catalog.ErrNoSelection},
		{"an unknown runtime", Request{Select: sel("python2.0", "")}, FieldSelect, catalog.ErrNoRuntime},
		{"a package that is not one", Request{Select: sel("provided.al2023", "debian"), Packages: []string{"curl; rm -rf /"}}, FieldPackage, nil},
		{"one image wanted, two selected", Request{Select: sel("provided.al2023", "debian"), One: true}, FieldSelect, ErrNotOne},
		{"no sample for the language", Request{Select: sel("dotnet8", "debian"), Test: &smoke.Plan{}}, FieldHandler, nil},
		{"an extension that is not there", Request{Select: sel("provided.al2023", "debian"), Extensions: []string{filepath.Join(dir, "nope")}}, FieldExtension, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Catalog, tc.req.Templates, tc.req.BuildKit, tc.req.StoreDir = c, tm, nowhere, t.TempDir()
			if tc.req.Select.Variants != nil && tc.req.Select.Variants[0] == "" {
				tc.req.Select.Variants = nil
			}
			_, err := Run(context.Background(), tc.req)
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Fatalf("Run = %v, want a RequestError about %s", err, tc.field)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Run = %v, want %v", err, tc.is)
			}
		})
	}
	// A good request gets as far as BuildKit, which is not there.
	_, err := Run(context.Background(), Request{Catalog: c, Templates: tm, Select: sel("provided.al2023", "debian"), BuildKit: nowhere, StoreDir: t.TempDir()})
	if !errors.Is(err, buildkit.ErrUnavailable) {
		t.Errorf("Run = %v, want BuildKit unavailable", err)
	}
}

func TestReportErr(t *testing.T) {
	cases := []struct {
		name   string
		report Report
		want   string
	}{
		{"all good", Report{Images: []build.Result{{Status: build.Built}, {Status: build.Unchanged}}}, ""},
		{"one failed", Report{Images: []build.Result{{Status: build.Built}, {Status: build.Failed}}}, "1 of 2 image(s) failed"},
		{"canceled counts as failed", Report{Images: []build.Result{{Status: build.Canceled}}}, "1 of 1 image(s) failed"},
		{"skipped when named", Report{Images: []build.Result{{Status: build.Skipped}}}, ErrNotBuildable.Error()},
		{"skipped with everything selected", Report{Images: []build.Result{{Status: build.Skipped}}, All: true}, ""},
	}
	for _, tc := range cases {
		err := tc.report.Err()
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: nil, want %q", tc.name, tc.want)
		}
	}
}
