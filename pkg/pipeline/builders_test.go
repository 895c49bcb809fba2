package pipeline

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdaimg/lambdaimg/pkg/buildkit"
	"github.com/lambdaimg/lambdaimg/pkg/catalog"
)

// TestBuildersPrecedence: --builder, then --addr or BUILDKIT_HOST (one
// daemon, no pool), then the user config file, then the catalog, then
// nothing (the default socket or the embedded daemon).
func TestBuildersPrecedence(t *testing.T) {
	flag := []buildkit.Spec{{Addr: "tcp://flag:1234"}}
	user := []buildkit.Spec{{Addr: "tcp://config:1234", Source: "/home/u/.config/lambdaimg/config.yaml"}}
	cat := &catalog.Catalog{Defaults: catalog.Defaults{Builders: []string{"tcp://catalog:1234,jobs=2"}}}
	fromCatalog := []buildkit.Spec{{Addr: "tcp://catalog:1234", Jobs: 2, Source: SourceCatalog}}
	for name, c := range map[string]struct {
		flags, user []buildkit.Spec
		addr, env   string
		catalog     *catalog.Catalog
		want        []buildkit.Spec
	}{
		"--builder over all":         {flags: flag, addr: "", env: "tcp://env:1234", user: user, catalog: cat, want: flag},
		"BUILDKIT_HOST over config":  {env: "tcp://env:1234", user: user, catalog: cat, want: nil},
		"--addr over config":         {addr: "tcp://addr:1234", user: user, catalog: cat, want: nil},
		"config over catalog":        {user: user, catalog: cat, want: user},
		"catalog":                    {catalog: cat, want: fromCatalog},
		"none: socket or embedded":   {catalog: &catalog.Catalog{}, want: nil},
		"no catalog, no config":      {want: nil},
		"config without a catalog":   {user: user, want: user},
		"empty config, then catalog": {user: []buildkit.Spec{}, catalog: cat, want: fromCatalog},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("BUILDKIT_HOST", c.env)
			got, err := Builders(c.flags, c.addr, c.user, c.catalog)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Builders (-want +got):\n%s", diff)
			}
		})
	}
}
