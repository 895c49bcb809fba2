package build

import (
	"strings"

	"github.com/moby/buildkit/client"
)

// JobPlaceholder in the ref (registry cache), dest or src (local cache) of
// a cache import or export is replaced by the job's name, e.g.
// provided.al2023-debian-arm64, so that every job of a run, on whichever
// builder, has its own cache and none overwrites another's:
//
//	--cache-to type=registry,ref=reg/cache:{job},mode=max --cache-from type=registry,ref=reg/cache:{job}
const JobPlaceholder = "{job}"

// jobCaches are the cache entries of j: JobPlaceholder replaced.
func jobCaches(in []client.CacheOptionsEntry, j Job) []client.CacheOptionsEntry {
	if len(in) == 0 {
		return nil
	}
	t := j.Context.Target
	name := t.Runtime.ID + "-" + t.Variant + "-" + string(j.Arch)
	out := make([]client.CacheOptionsEntry, len(in))
	for i, e := range in {
		attrs := make(map[string]string, len(e.Attrs))
		for k, v := range e.Attrs {
			if k == "ref" || k == "dest" || k == "src" {
				v = strings.ReplaceAll(v, JobPlaceholder, name)
			}
			attrs[k] = v
		}
		out[i] = client.CacheOptionsEntry{Type: e.Type, Attrs: attrs}
	}
	return out
}
