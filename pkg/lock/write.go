package lock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
)

// ErrOutdated is returned (wrapped) by Save when the lock exists, the
// resolution changed some of its entries, and no update was asked for.
var ErrOutdated = errors.New("the lock is out of date")

// Result is what Save did.
type Result struct {
	File string `json:"file"`
	// Written is false when the file already held these bytes, or when
	// Save refused to change it.
	Written bool `json:"written"`
	// Targets are the targets resolved, sorted.
	Targets []string `json:"targets"`
	// Changes are what differs from the previous lock (see Changes).
	Changes []Change `json:"changes"`
}

// Save writes next to path, where prev (nil: none) is the lock path held.
// Without update, a change to a value prev holds is refused (an error
// wrapping ErrOutdated, the file untouched); what is new (targets,
// platforms, OS packages of a newly built image) is added.
func Save(path string, prev, next *File, targets []string, update bool) (*Result, error) {
	res := &Result{File: path, Targets: targets, Changes: []Change{}}
	if prev != nil {
		res.Changes = append(res.Changes, Changes(prev, next)...)
		if !update && slices.ContainsFunc(res.Changes, Change.Moves) {
			return res, fmt.Errorf("%w: %s would change (%d changes, listed above): review them and run 'lambdaimg lock --update' to move it forward",
				ErrOutdated, path, len(res.Changes))
		}
	}
	data, err := next.Marshal()
	if err != nil {
		return nil, err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return res, nil
	}
	if err := next.Write(path); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	res.Written = true
	return res, nil
}
