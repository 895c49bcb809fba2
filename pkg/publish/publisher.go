package publish

import (
	"context"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/lambdaimg/lambdaimg/pkg/store"
)

// Publisher carries out a plan.
type Publisher interface {
	// Publish publishes plan and returns the tags it wrote or found in
	// place. On error the result holds what was done before it.
	Publish(ctx context.Context, plan []Action) (Result, error)
}

// Source gives the image of a store entry; *store.Store is one.
type Source interface {
	Image(e store.Entry) (v1.Image, error)
}

var _ Source = (*store.Store)(nil)

// Status is what happened to a tag.
type Status string

// The statuses of a Ref.
const (
	Pushed    Status = "pushed"     // the tag was written
	Unchanged Status = "unchanged"  // the tag already pointed at the digest
	WouldPush Status = "would-push" // dry run: the tag would be written
)

// Ref is one tag of the result.
type Ref struct {
	Repository string          `json:"repository"`
	Tag        string          `json:"tag"`
	Digest     Hash            `json:"digest"`
	MediaType  types.MediaType `json:"mediaType"`
	// Platform is os/arch for a single-platform image, empty for an index.
	Platform string `json:"platform,omitempty"`
	// Source is the runtime/variant the tag belongs to.
	Source string `json:"source"`
	Status Status `json:"status"`
	// Previous is the digest the tag pointed at before, if it moved.
	Previous string `json:"previous,omitempty"`
}

// String returns repository:tag@digest.
func (r Ref) String() string { return fmt.Sprintf("%s:%s@%s", r.Repository, r.Tag, r.Digest) }

// Stats count what one registry needed.
type Stats struct {
	Registry         string `json:"registry"`
	ManifestsPushed  int    `json:"manifestsPushed"`
	ManifestsPresent int    `json:"manifestsPresent"`
	BlobsUploaded    int    `json:"blobsUploaded"`
	BlobsMounted     int    `json:"blobsMounted"`
	BlobsPresent     int    `json:"blobsPresent"`
	BytesUploaded    int64  `json:"bytesUploaded"`
	TagsWritten      int    `json:"tagsWritten"`
	TagsUnchanged    int    `json:"tagsUnchanged"`
}

// Result is what a Publisher did.
type Result struct {
	Refs  []Ref   `json:"refs"`
	Stats []Stats `json:"stats,omitempty"`
	// Notes say what was held back and why: a runtime variant with an
	// architecture missing or failing moves none of its tags.
	Notes []string `json:"notes,omitempty"`
	// Referrers are the SBOMs and changelogs attached (see Attach).
	Referrers []Referrer `json:"referrers,omitempty"`
}

func (r *Result) merge(o Result) {
	r.Refs = append(r.Refs, o.Refs...)
	r.Stats = append(r.Stats, o.Stats...)
	r.addNotes(o.Notes...)
	r.Referrers = append(r.Referrers, o.Referrers...)
}

// addNotes appends the notes r does not have yet.
func (r *Result) addNotes(notes ...string) {
	for _, n := range notes {
		if !slices.Contains(r.Notes, n) {
			r.Notes = append(r.Notes, n)
		}
	}
}
