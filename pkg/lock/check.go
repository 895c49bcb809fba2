package lock

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrStale is returned (wrapped) when the lock does not fit the catalog
// and templates a build would use.
var ErrStale = errors.New("the lock is stale")

// Check says whether f locks target (runtime/variant) as it is now:
// rendered to inputs, built for platforms ("linux/amd64"). It returns the
// target's entry, or an error wrapping ErrStale that says what to run.
func (f *File) Check(target, inputs string, platforms []string) (*Target, error) {
	t, ok := f.Targets[target]
	if !ok {
		return nil, fmt.Errorf("%w: it has no entry for %s: run 'lambdaimg lock' with the same selection", ErrStale, target)
	}
	if t.Inputs != inputs {
		return nil, fmt.Errorf("%w: %s's catalog entry or templates changed since it was locked (inputs %s, locked %s): run 'lambdaimg lock --update'",
			ErrStale, target, short(inputs), short(t.Inputs))
	}
	for arg, img := range t.Images {
		for _, p := range platforms {
			if _, ok := img.Platforms[p]; !ok {
				return nil, fmt.Errorf("%w: %s's %s (%s) is not locked for %s: run 'lambdaimg lock --update' for that platform",
					ErrStale, target, arg, img.Ref, p)
			}
		}
	}
	return t, nil
}

// PinnedImages returns the target's images by digest, by *_IMAGE
// argument: REPOSITORY@DIGEST, for the build to pass as build arguments
// (registry mirrors apply to them as to tags).
func (t *Target) PinnedImages() (map[string]string, error) {
	out := map[string]string{}
	for arg, img := range t.Images {
		ref, err := name.ParseReference(img.Ref)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", arg, img.Ref, err)
		}
		out[arg] = ref.Context().Digest(img.Digest).String()
	}
	return out, nil
}

// Change is one value that differs between two locks. Path is dotted
// ("images.BASE_IMAGE.digest", "os.linux/amd64.packages.libc6"); Old is
// empty for what is new (a target, a platform, a package), New for what
// is gone.
type Change struct {
	Target string `json:"target"`
	Path   string `json:"path,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
}

// String is "python3.12/debian images.BASE_IMAGE.digest: sha256:a -> sha256:b",
// or "java21/debian: added".
func (c Change) String() string {
	if c.Path == "" {
		return c.Target + ": added"
	}
	return fmt.Sprintf("%s %s: %s -> %s", c.Target, c.Path, orNone(c.Old), orNone(c.New))
}

// Moves reports whether c changes or removes a value the old lock held
// (not only adds one).
func (c Change) Moves() bool { return c.Path != "" && c.Old != "" }

// Changes lists what differs between old and new, sorted by target and
// path. A target only in new is one Change with no Path; targets only in
// old are not listed (a lock of some targets keeps the others).
func Changes(old, new *File) []Change {
	var out []Change
	names := make([]string, 0, len(new.Targets))
	for n := range new.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o, ok := old.Targets[n]
		if !ok {
			out = append(out, Change{Target: n})
			continue
		}
		a, b := flatten(o), flatten(new.Targets[n])
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if a[k] != b[k] {
				out = append(out, Change{Target: n, Path: k, Old: a[k], New: b[k]})
			}
		}
	}
	return out
}

// flatten turns a target into dotted paths and values; lists of strings
// (OS packages) become one path per element value, so a change names the
// package.
func flatten(t *Target) map[string]string {
	data, _ := json.Marshal(t)
	var v any
	_ = json.Unmarshal(data, &v)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(join(prefix, k), e)
			}
		case []any:
			for i, e := range x {
				if s, ok := e.(string); ok {
					name, version, _ := strings.Cut(s, "=")
					out[join(prefix, name)] = version
					continue
				}
				if m, ok := e.(map[string]any); ok && m["name"] != nil {
					walk(join(prefix, fmt.Sprint(m["name"])), e)
					continue
				}
				walk(join(prefix, fmt.Sprint(i)), e)
			}
		default:
			out[prefix] = fmt.Sprint(x)
		}
	}
	walk("", v)
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return orNone(d)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
