package verify

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/labels"
	"github.com/lambdaimg/lambdaimg/pkg/store"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/lambdaimg/lambdaimg/pkg/registry"
)

// AnnRefName names an image in an OCI layout.
const AnnRefName = labels.RefName

// Reference verifies what s names: a registry reference (REPO:TAG or
// REPO@DIGEST), or an OCI layout as oci:DIR (every image of its
// index.json), oci:DIR:REFNAME (the images whose ref.name annotation is
// REFNAME) or oci:DIR@DIGEST. An error means s could not be read, not
// that an image failed.
func (v *Verifier) Reference(ctx context.Context, s string) ([]Report, error) {
	reps, err := v.reference(ctx, s)
	// A registry's error can repeat the request: never show credentials.
	return reps, registry.ScrubError(err)
}

func (v *Verifier) reference(ctx context.Context, s string) ([]Report, error) {
	if rest, ok := strings.CutPrefix(s, "oci:"); ok {
		return v.layout(ctx, rest)
	}
	ref, err := name.ParseReference(s, v.names...)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", s, err)
	}
	desc, err := remote.Get(ref, append([]remote.Option{remote.WithContext(ctx)}, v.remote...)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s, err)
		}
		return []Report{indexReport(s, desc.Digest, idx, ref.Context().String())}, nil
	}
	if !desc.MediaType.IsImage() {
		rep := Report{Ref: s, Digest: desc.Digest.String()}
		rep.add("manifest", Fail, "media type %q is not an image manifest", desc.MediaType)
		return []Report{rep}, nil
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s, err)
	}
	return []Report{v.Image(ctx, s, img, nil)}, nil
}

func (v *Verifier) layout(ctx context.Context, s string) ([]Report, error) {
	dir, refName := s, ""
	if st, err := os.Stat(s); err != nil || !st.IsDir() {
		if i := strings.LastIndex(s, "@"); i > 0 {
			if _, err := v1.NewHash(s[i+1:]); err == nil {
				dir, refName = s[:i], s[i+1:]
			}
		}
		if i := strings.LastIndex(s, ":"); refName == "" && i > 0 {
			dir, refName = s[:i], s[i+1:]
		}
	}
	ii, im, err := store.ReadIndex(dir)
	if err != nil {
		return nil, err
	}
	var reports []Report
	var names []string
	for _, d := range im.Manifests {
		rn := d.Annotations[AnnRefName]
		names = append(names, rn)
		if refName != "" && rn != refName && d.Digest.String() != refName {
			continue
		}
		label := "oci:" + dir + ":" + rn
		if rn == "" {
			label = "oci:" + dir + "@" + d.Digest.String()
		}
		switch {
		case d.MediaType.IsIndex():
			idx, err := ii.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", label, err)
			}
			reports = append(reports, indexReport(label, d.Digest, idx, ""))
		case d.MediaType.IsImage():
			img, err := ii.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", label, err)
			}
			reports = append(reports, v.Image(ctx, label, img, &d))
		default:
			rep := Report{Ref: label, Digest: d.Digest.String()}
			rep.add("manifest", Fail, "media type %q is not an image manifest", d.MediaType)
			reports = append(reports, rep)
		}
	}
	sort.SliceStable(reports, func(i, j int) bool { return reports[i].Ref < reports[j].Ref })
	if len(reports) == 0 {
		sort.Strings(names)
		if refName != "" {
			return nil, fmt.Errorf("no image named %q in %s (it has: %s)", refName, dir, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("the OCI layout %s holds no image", dir)
	}
	return reports, nil
}

// indexReport fails an index, saying what it holds and what to deploy
// instead.
func indexReport(ref string, h v1.Hash, idx v1.ImageIndex, repo string) Report {
	rep := Report{Ref: ref, Digest: h.String()}
	im, err := idx.IndexManifest()
	if err != nil {
		rep.add("manifest", Fail, "an image index, which Lambda does not deploy; reading it: %v", err)
		return rep
	}
	var kids, attest []string
	var hint string
	for _, d := range im.Manifests {
		plat := "unknown/unknown"
		if d.Platform != nil {
			plat = d.Platform.String()
		}
		if plat == "unknown/unknown" || d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attest = append(attest, short(d.Digest))
			continue
		}
		kids = append(kids, plat+" "+short(d.Digest))
		if hint == "" && repo != "" {
			hint = fmt.Sprintf("; deploy one platform by digest, e.g. %s@%s (%s)", repo, d.Digest, plat)
		}
	}
	why := fmt.Sprintf("an image index (%s) of %d manifest(s) [%s]", im.MediaType, len(im.Manifests), strings.Join(kids, ", "))
	if len(attest) > 0 {
		why += fmt.Sprintf(" with %d attestation manifest(s) [%s] (build with --provenance=false --sbom=false)", len(attest), strings.Join(attest, ", "))
	}
	rep.add("manifest", Fail, "%s; Lambda deploys single-platform image manifests only%s", why, hint)
	return rep
}
