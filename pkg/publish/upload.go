package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// blobs makes sure each blob is sent to each repository at most once per
// session: the blob's home repository (the first one of the plan that
// needs it, so that a rerun picks the same) gets it uploaded, the others
// mount it from there once that is done.
type blobs struct {
	mu    sync.Mutex
	put   map[string]*blobPut // repository@digest
	homes map[Hash]name.Repository
	// single is whether the registry takes single-POST uploads: 0 unknown,
	// 1 yes, -1 no; probing counts the small blobs sent that way while
	// it is 0.
	single  atomic.Int32
	probing atomic.Int32
	// noMount is set once the registry refused a mount.
	noMount atomic.Bool
}

type blobPut struct {
	started bool
	done    chan struct{}
	err     error
}

// entry returns the put of key, made if needed; the caller holds mu.
func (bl *blobs) entry(key string) *blobPut {
	if bl.put == nil {
		bl.put = map[string]*blobPut{}
	}
	p := bl.put[key]
	if p == nil {
		p = &blobPut{done: make(chan struct{})}
		bl.put[key] = p
	}
	return p
}

// setHome makes repo the home of digest h unless it has one; present
// says the repository has the blob already.
func (bl *blobs) setHome(h Hash, repo name.Repository, present bool) {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	if bl.homes == nil {
		bl.homes = map[Hash]name.Repository{}
	}
	if present {
		if p := bl.entry(repo.String() + "@" + h.String()); !p.started {
			p.started = true
			close(p.done)
		}
	}
	if _, ok := bl.homes[h]; !ok {
		bl.homes[h] = repo
	}
}

// pending returns the home of blob h unless the blob is known to be there.
func (bl *blobs) pending(h Hash) (name.Repository, bool) {
	bl.mu.Lock()
	defer bl.mu.Unlock()
	home, ok := bl.homes[h]
	if !ok {
		return name.Repository{}, false
	}
	p := bl.put[home.String()+"@"+h.String()]
	return home, p == nil || !p.started
}

// ensure puts b into repo unless this session already did (or is doing).
func (s *session) ensure(ctx context.Context, repo name.Repository, b blob) error {
	key := repo.String() + "@" + b.digest.String()
	bl := &s.blobs
	bl.mu.Lock()
	p := bl.entry(key)
	if p.started {
		bl.mu.Unlock()
		return p.wait(ctx)
	}
	p.started = true
	home, ok := bl.homes[b.digest]
	if !ok {
		if bl.homes == nil {
			bl.homes = map[Hash]name.Repository{}
		}
		home = repo
		bl.homes[b.digest] = repo
	}
	var hp *blobPut
	if home.String() != repo.String() {
		hp = bl.entry(home.String() + "@" + b.digest.String())
	}
	bl.mu.Unlock()

	var from *name.Repository
	if hp != nil && hp.wait(ctx) == nil {
		from = &home
	}
	p.err = s.upload(ctx, repo, b, from)
	close(p.done)
	return p.err
}

func (p *blobPut) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upload sends one blob to repo (mounting it from "from" where the
// registry allows), starting over when the registry lost the upload
// session (a retried PUT it had already committed).
func (s *session) upload(ctx context.Context, repo name.Repository, b blob, from *name.Repository) error {
	for attempt := 1; ; attempt++ {
		outcome, err := s.uploadOnce(ctx, repo, b, from)
		if err == nil {
			switch outcome {
			case "mounted":
				s.count(func(st *Stats) { st.BlobsMounted++ })
				s.r.logf("%s: mounted %s from %s", repo, short(b.digest), from.RepositoryStr())
			case "uploaded":
				s.count(func(st *Stats) { st.BlobsUploaded++; st.BytesUploaded += b.size })
				s.r.logf("%s: uploaded %s (%s)", repo, short(b.digest), humanBytes(b.size))
			default:
				s.count(func(st *Stats) { st.BlobsPresent++ })
			}
			return nil
		}
		if attempt >= 3 || !restartable(err) || ctx.Err() != nil {
			return fmt.Errorf("uploading blob %s to %s: %w", b.digest, repo.RepositoryStr(), err)
		}
		s.r.logf("%s: starting the upload of %s again: %v", repo, short(b.digest), err)
		from = nil // and look first
	}
}

// uploadOnce does one try: a mount (when from is set and the registry
// mounts), else a HEAD, then a POST opening the upload (carrying a small
// blob) and a PUT with the bytes. It says "mounted", "uploaded" or
// "present".
func (s *session) uploadOnce(ctx context.Context, repo name.Repository, b blob, from *name.Repository) (string, error) {
	c, err := s.client(ctx, repo)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	if from != nil && !s.blobs.noMount.Load() {
		// A mount answers whether the blob is there too: no HEAD.
		q.Set("mount", b.digest.String())
		q.Set("from", from.RepositoryStr())
	} else {
		// Asked even for an artifact's layer made in this run: a run
		// interrupted after sending it must not send it again.
		ok, err := s.hasBlob(ctx, c, repo, b.digest)
		if err != nil || ok {
			return "present", err
		}
	}
	single := q.Get("mount") == "" && s.blobs.singlePOST(ctx, b.size)
	if single {
		q.Set("digest", b.digest.String())
		if s.blobs.single.Load() == 0 {
			s.blobs.probing.Add(1)
			defer s.blobs.probing.Add(-1)
		}
	}
	u := apiURL(repo, "blobs/uploads/")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	status, loc, err := s.postUpload(ctx, c, u, b, single)
	if err != nil {
		return "", err
	}
	mount := q.Get("mount") != ""
	switch {
	case status == http.StatusCreated && mount:
		return "mounted", nil
	case status == http.StatusCreated && single:
		s.blobs.learn(1)
		return "uploaded", nil
	case status == http.StatusCreated:
		return "", fmt.Errorf("POST %s: 201 without a blob", u)
	}
	// 202: an upload session was opened instead.
	if single {
		s.blobs.learn(-1)
	}
	if mount {
		s.blobs.noMount.Store(true)
		// The registry did not mount: the blob may be there already.
		if ok, err := s.hasBlob(ctx, c, repo, b.digest); err != nil || ok {
			return "present", err
		}
	}
	return s.commitUpload(ctx, c, u, loc, b)
}

// postUpload opens an upload with a POST to u, carrying b when single;
// it returns the status (201 or 202) and the Location header.
func (s *session) postUpload(ctx context.Context, c *http.Client, u string, b blob, single bool) (int, string, error) {
	var resp *http.Response
	var err error
	if single {
		resp, err = s.sendBlob(ctx, c, http.MethodPost, u, b)
	} else {
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if rerr != nil {
			return 0, "", rerr
		}
		resp, err = c.Do(req)
	}
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated, http.StatusAccepted); err != nil {
		return 0, "", err
	}
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// commitUpload puts b to the upload session the POST to u opened at loc.
func (s *session) commitUpload(ctx context.Context, c *http.Client, u, loc string, b blob) (string, error) {
	put, err := commitURL(u, loc, b.digest)
	if err != nil {
		return "", err
	}
	resp, err := s.sendBlob(ctx, c, http.MethodPut, put, b)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated); err != nil {
		return "", err
	}
	return "uploaded", nil
}

// singlePOST says whether to send a blob of size in its POST: a small one
// whenever the registry has not refused it, a larger one once the
// registry took one (waiting for the small ones on their way to say so).
func (bl *blobs) singlePOST(ctx context.Context, size int64) bool {
	switch st := bl.single.Load(); {
	case st < 0:
		return false
	case size <= smallBlob || st > 0:
		return true
	}
	// Wait for the small ones on their way (they may end otherwise: a
	// blob found there after a restart says nothing).
	for bl.single.Load() == 0 && bl.probing.Load() > 0 && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	return bl.single.Load() > 0
}

// learn records whether the registry takes single-POST uploads.
func (bl *blobs) learn(v int32) { bl.single.CompareAndSwap(0, v) }

// sendBlob sends b's bytes to u, rewindable for the retrying transport.
func (s *session) sendBlob(ctx context.Context, c *http.Client, method, u string, b blob) (*http.Response, error) {
	body, err := b.open()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		body.Close()
		return nil, err
	}
	req.ContentLength = b.size
	req.GetBody = b.open
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.Do(req)
}

// commitURL is the upload location loc (relative to u) with ?digest=.
func commitURL(u, loc string, digest Hash) (string, error) {
	if loc == "" {
		return "", errors.New("the registry opened an upload without a Location")
	}
	base, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("upload location %q: %w", loc, err)
	}
	l = base.ResolveReference(l)
	q := l.Query()
	q.Set("digest", digest.String())
	l.RawQuery = q.Encode()
	return l.String(), nil
}

// hasBlob reports whether repo holds the blob.
func (s *session) hasBlob(ctx context.Context, c *http.Client, repo name.Repository, h Hash) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, apiURL(repo, "blobs/"+h.String()), nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return false, err
	}
	return true, nil
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
