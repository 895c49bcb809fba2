package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/lock"
	"github.com/lambdaimg/lambdaimg/pkg/render"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// LockRequest is one run of lock.
type LockRequest struct {
	Catalog   *catalog.Catalog
	Templates *render.Templates
	Select    catalog.Selector
	// File is the lock file to write (lambdaimg.lock).
	File string
	// Update moves the entries the file already has; without it a change
	// to them is refused (lock.ErrOutdated).
	Update bool
	// StoreDir is the image store whose images give the OS packages; a
	// store that does not exist gives none.
	StoreDir string
	Mirrors  map[string]string
	// Log receives warnings (normally stderr).
	Log io.Writer
}

// Lock resolves the selected targets without building and writes them to
// the lock file, keeping its other targets (see pkg/lock).
func Lock(ctx context.Context, req LockRequest) (*lock.Result, error) {
	targets, err := Targets(req.Catalog, req.Select, nil)
	if err != nil {
		return nil, err
	}
	prev, err := lock.Read(req.File)
	if errors.Is(err, lock.ErrNoLock) {
		prev, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	opts := []lock.Option{lock.WithMirrors(req.Mirrors)}
	if _, err := os.Stat(req.StoreDir); err == nil {
		st, err := store.Open(req.StoreDir)
		if err != nil {
			return nil, err
		}
		if rec := st.Recovered(); rec != nil && req.Log != nil {
			fmt.Fprintln(req.Log, "warning:", rec)
		}
		opts = append(opts, lock.WithStore(st))
	}
	l, err := lock.NewLocker(req.Templates, opts...)
	if err != nil {
		return nil, err
	}
	next, err := l.Lock(ctx, targets, prev)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(targets))
	for i := range targets {
		names[i] = targets[i].Name()
	}
	return lock.Save(req.File, prev, next, names, req.Update)
}

// lockedImages returns t's images by digest from req.Lock (nil without a
// lock), after checking the lock fits t as the catalog and templates are
// now.
func (req *Request) lockedImages(t *catalog.Target) (map[string]string, error) {
	if req.Lock == nil {
		return nil, nil
	}
	if len(req.Packages) > 0 {
		return nil, requestErr(FieldPackage, "extra OS packages are not in the lock %s: leave them out of a locked build", req.LockFile)
	}
	inputs, err := lock.Inputs(req.Templates, t)
	if err != nil {
		return nil, err
	}
	platforms := make([]string, len(t.Arches))
	for i, a := range t.Arches {
		platforms[i] = a.Platform()
	}
	entry, err := req.Lock.Check(t.Name(), inputs, platforms)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.LockFile, err)
	}
	return entry.PinnedImages()
}
