package publish

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// RollbackRequest names the floating tags of one runtime variant in one
// repository and the day whose dated tags they go back to.
type RollbackRequest struct {
	// Repository is where the tags are, e.g. public.ecr.aws/ALIAS/python.
	Repository string
	// Group is the runtime/variant, for the result.
	Group string
	// Tags are the catalog's tags; the first one names the dated tags.
	Tags []string
	// Variant is "" for the runtime's default variant, else its name.
	Variant string
	// Arches are the runtime variant's architectures (x86_64, arm64).
	Arches []string
	// Date is the day as the dated tags spell it (2026.11.24), optionally
	// with a counter (2026.11.24.2); without one, the day's last build.
	Date string
	// Scheme says which floating tags exist (Arch, Index).
	Scheme TagScheme
}

var dateRE = regexp.MustCompile(`^[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?$`)

// tags returns the dated stem, the variant suffix and the explicit counter
// (0 when none was given).
func (req RollbackRequest) parts() (stem, suffix string, counter int, err error) {
	if len(req.Tags) == 0 || len(req.Arches) == 0 {
		return "", "", 0, fmt.Errorf("%s: no catalog tag or architecture to roll back", req.Group)
	}
	if !req.Scheme.Arch && !req.Scheme.Index {
		return "", "", 0, errors.New("tag scheme moves no tag: enable Arch or Index")
	}
	if !dateRE.MatchString(req.Date) {
		return "", "", 0, fmt.Errorf("date %q is not YYYY.MM.DD or YYYY.MM.DD.N, as dated tags spell it", req.Date)
	}
	day := req.Date
	if parts := strings.Split(req.Date, "."); len(parts) == 4 {
		day = strings.Join(parts[:3], ".")
		counter, _ = strconv.Atoi(parts[3])
	}
	if req.Variant != "" {
		suffix = "-" + req.Variant
	}
	return req.Tags[0] + "." + day, suffix, counter, nil
}

// Rollback points the floating tags of req (per architecture and the
// index) at the digests of its dated tags. Every dated tag is looked up
// before any tag moves: if one is missing, nothing moves.
func (r *Remote) Rollback(ctx context.Context, req RollbackRequest) ([]Ref, error) {
	stem, suffix, n, err := req.parts()
	if err != nil {
		return nil, err
	}
	repo, err := name.NewRepository(req.Repository, r.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", req.Repository, err)
	}
	s := r.newSession(repo.RegistryStr())
	probe := Tag{Stem: stem, Suffix: suffix}
	if !req.Scheme.Index {
		probe.Suffix += "-" + req.Arches[0]
	}
	if n == 0 {
		if n, err = s.lastCounter(ctx, repo, probe); err != nil {
			return nil, err
		}
	}
	moves, err := s.rollbackMoves(ctx, repo, req, Tag{Stem: stem, Suffix: suffix}, n)
	if err != nil {
		return nil, err
	}
	refs, err := s.moveTags(ctx, repo, moves)
	for i := range refs {
		refs[i].Source = req.Group
	}
	return refs, err
}

// lastCounter returns the counter of the last build of the day of t.
func (s *session) lastCounter(ctx context.Context, repo name.Repository, t Tag) (int, error) {
	last := 0
	for n := 1; n <= maxCounter; n++ {
		d, err := s.head(ctx, repo.Tag(t.Name(n)))
		if err != nil {
			return 0, err
		}
		if d == nil {
			break
		}
		last = n
	}
	if last == 0 {
		return 0, fmt.Errorf("%s: no dated tag %s: nothing was published that day", repo, t.Name(1))
	}
	return last, nil
}

// move is a floating tag to point at the manifest a dated tag names.
type move struct {
	floating, dated string
	arch            string // "" for the index
}

// rollbackMoves lists the tags to move, checking that every dated tag
// exists.
func (s *session) rollbackMoves(ctx context.Context, repo name.Repository, req RollbackRequest, dated Tag, n int) ([]move, error) {
	var moves []move
	for _, t := range req.Tags {
		if req.Scheme.Arch {
			for _, a := range req.Arches {
				moves = append(moves, move{floating: t + dated.Suffix + "-" + a, dated: Tag{Stem: dated.Stem, Suffix: dated.Suffix + "-" + a}.Name(n), arch: a})
			}
		}
		if req.Scheme.Index {
			moves = append(moves, move{floating: t + dated.Suffix, dated: dated.Name(n)})
		}
	}
	var missing []string
	for _, m := range moves {
		d, err := s.head(ctx, repo.Tag(m.dated))
		if err != nil {
			return nil, err
		}
		if d == nil && !slices.Contains(missing, m.dated) {
			missing = append(missing, m.dated)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: dated tag(s) %s missing: no tag moved", repo, strings.Join(missing, ", "))
	}
	return moves, nil
}

// moveTags points each floating tag at its dated tag's manifest.
func (s *session) moveTags(ctx context.Context, repo name.Repository, moves []move) ([]Ref, error) {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.r.keychain),
		remote.WithTransport(s.rt), remote.WithUserAgent(s.r.userAgent)}
	var refs []Ref
	for _, m := range moves {
		desc, err := remote.Get(repo.Tag(m.dated), opts...)
		if err != nil {
			return refs, fmt.Errorf("reading %s:%s: %w", repo, m.dated, err)
		}
		ref := Ref{Repository: repo.String(), Tag: m.floating, Digest: desc.Digest, MediaType: desc.MediaType, Status: Unchanged}
		if m.arch != "" {
			p := store.Ref{Arch: m.arch}.Platform()
			ref.Platform = p.OS + "/" + p.Architecture
		}
		cur, err := s.head(ctx, repo.Tag(m.floating))
		if err != nil {
			return refs, err
		}
		if cur == nil || cur.Digest != desc.Digest {
			if err := remote.Tag(repo.Tag(m.floating), desc, opts...); err != nil {
				return refs, fmt.Errorf("tagging %s:%s: %w", repo, m.floating, err)
			}
			ref.Status = Pushed
			if cur != nil {
				ref.Previous = cur.Digest.String()
			}
			s.r.logf("%s:%s -> %s (as %s)", repo, m.floating, short(desc.Digest), m.dated)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}
