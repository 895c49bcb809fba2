package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// blobJob is one blob and the repositories that need it; the first one
// gets the upload, the others a mount from it.
type blobJob struct {
	digest Hash
	layer  v1.Layer
	size   int64
	repos  []name.Repository
}

func (s *session) uploadBlobs(ctx context.Context, states []*repoState) error {
	jobs := map[Hash]*blobJob{}
	var order []*blobJob
	for _, st := range states {
		for _, m := range st.a.Manifests {
			if m.IsIndex() || st.has(m.Descriptor.Digest) {
				continue
			}
			img, err := s.image(m)
			if err != nil {
				return err
			}
			blobs, err := imageBlobs(img)
			if err != nil {
				return fmt.Errorf("reading %s from the store: %w", m.Entry.Name(), err)
			}
			for _, b := range blobs {
				j := jobs[b.digest]
				if j == nil {
					j = &blobJob{digest: b.digest, layer: b.layer, size: b.size}
					jobs[b.digest] = j
					order = append(order, j)
				}
				if !containsRepo(j.repos, st.repo) {
					j.repos = append(j.repos, st.repo)
				}
			}
		}
	}
	// Largest first: the long uploads start early.
	sort.SliceStable(order, func(i, k int) bool { return order[i].size > order[k].size })
	p := newPool(ctx, s.r.jobs)
	for _, j := range order {
		p.Go(func(ctx context.Context) error {
			home := j.repos[0]
			if err := s.upload(ctx, home, j.layer, j, nil); err != nil {
				return err
			}
			for _, repo := range j.repos[1:] {
				p.Go(func(ctx context.Context) error {
					ml := &remote.MountableLayer{Layer: j.layer, Reference: home.Digest(j.digest.String())}
					return s.upload(ctx, repo, ml, j, &home)
				})
			}
			return nil
		})
	}
	return p.Wait()
}

type blob struct {
	digest Hash
	size   int64
	layer  v1.Layer
}

// imageBlobs returns the config and the distributable layers of img.
func imageBlobs(img v1.Image) ([]blob, error) {
	cl, err := partial.ConfigLayer(img)
	if err != nil {
		return nil, err
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []blob
	for _, l := range append([]v1.Layer{cl}, ls...) {
		mt, err := l.MediaType()
		if err != nil {
			return nil, err
		}
		if !mt.IsDistributable() {
			continue
		}
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		size, err := l.Size()
		if err != nil {
			return nil, err
		}
		out = append(out, blob{digest: d, size: size, layer: l})
	}
	return out, nil
}

func containsRepo(list []name.Repository, r name.Repository) bool {
	for _, x := range list {
		if x.String() == r.String() {
			return true
		}
	}
	return false
}

// upload sends one blob to repo (mounting it from "from" where the
// registry allows), starting over when the registry lost the upload
// session (a retried PATCH it had half-read).
func (s *session) upload(ctx context.Context, repo name.Repository, l v1.Layer, j *blobJob, from *name.Repository) error {
	p, err := s.getPusher()
	if err != nil {
		return err
	}
	bs := &blobStats{}
	ctx = context.WithValue(ctx, blobStatsKey{}, bs)
	for attempt := 1; ; attempt++ {
		err := p.Upload(ctx, repo, l)
		if err == nil {
			break
		}
		if attempt >= 3 || !restartable(err) || ctx.Err() != nil {
			return fmt.Errorf("uploading blob %s to %s: %w", j.digest, repo.RepositoryStr(), err)
		}
		s.r.logf("%s: starting the upload of %s again: %v", repo, short(j.digest), err)
	}
	switch mounted, sent, n := bs.get(); {
	case mounted:
		s.count(func(st *Stats) { st.BlobsMounted++ })
		s.r.logf("%s: mounted %s from %s", repo, short(j.digest), from.RepositoryStr())
	case sent:
		s.count(func(st *Stats) { st.BlobsUploaded++; st.BytesUploaded += n })
		s.r.logf("%s: uploaded %s (%s)", repo, short(j.digest), humanBytes(j.size))
	default:
		s.count(func(st *Stats) { st.BlobsPresent++ })
	}
	return nil
}

// restartable reports whether an upload failed because the registry
// dropped or refused its upload session, so a fresh one may work.
func restartable(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return true
	}
	for _, d := range terr.Errors {
		switch d.Code {
		case transport.BlobUploadInvalidErrorCode, transport.BlobUploadUnknownErrorCode,
			transport.DigestInvalidErrorCode, transport.SizeInvalidErrorCode:
			return true
		}
	}
	return false
}
