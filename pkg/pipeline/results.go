package pipeline

import (
	"errors"
	"fmt"

	"github.com/lambdaimg/lambdaimg/pkg/build"
)

// ErrNotBuildable is the error of a run that selected images this machine
// cannot build (no BuildKit worker for their platform).
var ErrNotBuildable = errors.New("some images could not be built on this machine (see above)")

// Err turns failed images (and, unless every runtime was selected, skipped
// ones) into the run's error; nil when every image is good.
func (r *Report) Err() error {
	s := build.Summarize(r.Images)
	switch {
	case s.Failed > 0:
		return fmt.Errorf("%d of %d image(s) failed", s.Failed, len(r.Images))
	case s.Skipped > 0 && !r.All:
		return ErrNotBuildable
	}
	return nil
}
