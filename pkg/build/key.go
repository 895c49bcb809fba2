package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/lambdaimg/lambdaimg/pkg/extension"
)

// jobKey is the build key of a job: the context's inputs digest and every
// option that changes the image. A stored image with the same key is
// reported unchanged instead of being built again.
func (b *Builder) jobKey(j Job, p *prepared) (string, error) {
	parts := map[string]string{
		"inputs":            j.Context.Digest,
		"platform":          j.Arch.Platform(),
		"source-date-epoch": strconv.FormatInt(b.opts.SourceDateEpoch, 10),
	}
	for k, v := range p.imageArgs {
		parts["image:"+k] = v
	}
	for k, v := range b.opts.BuildArgs {
		parts["arg:"+k] = v
	}
	if bin, ok := p.rie[string(j.Arch)]; ok {
		sum, err := hashFile(bin)
		if err != nil {
			return "", err
		}
		parts["rie"] = sum
	}
	if j.Extensions != "" {
		sum, err := extension.Digest(j.Extensions)
		if err != nil {
			return "", err
		}
		parts["extensions"] = sum
	}
	return key(parts), nil
}

// key hashes everything that decides a job's image, so an unchanged job can
// be recognised in the store without asking BuildKit.
func key(parts map[string]string) string {
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, parts[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashFile returns the sha256 of a file's content.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
