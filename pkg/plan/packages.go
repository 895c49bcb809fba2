package plan

import (
	"context"
	"fmt"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/osindex"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// recordOSes are the OS families whose builds record their packages
// (labels.OSPackages), so that plan checks them: APT's and Alpine's.
var recordOSes = map[catalog.OS]bool{catalog.Debian: true, catalog.Ubuntu: true, catalog.Alpine: true}

// packages returns a reason per installed OS package of the stored image e
// that has a newer version in the index of the APT sources or apk
// repositories the image uses, as the build recorded both (labels.OSPackages): the store's index
// is enough, as in CI, where the plan job has no image layers. An index
// that cannot be read is an error (the plan cannot say "nothing
// changed").
func packages(ctx context.Context, index *osindex.Client, e store.Entry, arch catalog.Arch) ([]Reason, error) {
	raw, ok := e.Descriptor.Annotations[labels.OSPackages]
	if !ok {
		return []Reason{{KindPackage, "the stored image does not record its OS packages (built by an older lambdaimg)"}}, nil
	}
	rec, err := osindex.ParseRecord(raw)
	if err != nil {
		return []Reason{{KindPackage, err.Error()}}, nil
	}
	if rec.Database == "apk" {
		return apkPackages(ctx, index, e.Name(), rec, arch)
	}
	srcs, err := rec.SourceList()
	if err != nil {
		return nil, fmt.Errorf("%s: the recorded APT sources: %w", e.Name(), err)
	}
	if len(srcs) == 0 {
		return nil, nil
	}
	// The Release files say whether any index changed since the build: if
	// none did, no package is newer, and the Packages files (megabytes for
	// a distribution) are not read.
	state, err := index.State(ctx, srcs, arch.GoArch())
	if err != nil {
		return nil, fmt.Errorf("%s: checking its OS packages: %w", e.Name(), err)
	}
	if rec.State != "" && state == rec.State {
		return nil, nil
	}
	cands, err := index.Candidates(ctx, srcs, arch.GoArch())
	if err != nil {
		return nil, fmt.Errorf("%s: checking its OS packages: %w", e.Name(), err)
	}
	ups, err := osindex.Newer(rec.Installed(), cands)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name(), err)
	}
	return updateReasons(ups), nil
}

// apkPackages is packages for an apk record: every repository's
// APKINDEX is read (there is no Release file to say that none changed;
// an index is a few hundred kilobytes).
func apkPackages(ctx context.Context, index *osindex.Client, name string, rec *osindex.Record, arch catalog.Arch) ([]Reason, error) {
	if len(rec.Repositories) == 0 {
		return nil, nil
	}
	cands, err := index.ApkCandidates(ctx, rec.Repositories, arch.GoArch())
	if err != nil {
		return nil, fmt.Errorf("%s: checking its OS packages: %w", name, err)
	}
	ups, err := osindex.NewerApk(rec.Installed(), cands)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return updateReasons(ups), nil
}

func updateReasons(ups []osindex.Update) []Reason {
	out := make([]Reason, len(ups))
	for i, u := range ups {
		out[i] = Reason{KindPackage, fmt.Sprintf("package %s has newer version %s (installed %s)", u.Name, u.Available, u.Installed)}
	}
	return out
}
