package build

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
)

// Export is an extra export of each image: type oci (an OCI layout
// tarball) or tar (the root filesystem) to Dest, a file for one image or a
// directory for many.
type Export struct {
	Type string
	Dest string
}

// ParseExport parses "type=oci,dest=FILE" or "type=tar,dest=FILE".
func ParseExport(s string) (Export, error) {
	var o Export
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, fmt.Errorf("export %q: want type=oci|tar,dest=PATH", s)
		}
		switch k {
		case "type":
			o.Type = v
		case "dest":
			o.Dest = v
		default:
			return o, fmt.Errorf("export %q: unknown key %q (want type and dest)", s, k)
		}
	}
	if o.Type != client.ExporterOCI && o.Type != client.ExporterTar {
		return o, fmt.Errorf("export %q: type must be oci or tar", s)
	}
	if o.Dest == "" {
		return o, fmt.Errorf("export %q: dest is required", s)
	}
	return o, nil
}

// ExportPath is where an export of j goes: Dest itself for a single image
// (multi false) to a path that is not a directory, else one file per
// image in the directory Dest.
func ExportPath(o Export, j Job, multi bool) string {
	if st, err := os.Stat(o.Dest); multi || err == nil && st.IsDir() || strings.HasSuffix(o.Dest, "/") {
		t := j.Context.Target
		return filepath.Join(o.Dest, fmt.Sprintf("%s-%s-%s.tar", t.Runtime.ID, t.Variant, j.Arch))
	}
	return o.Dest
}

// exportEntry is the BuildKit export of o for j.
func exportEntry(o Export, j Job, multi bool) (client.ExportEntry, error) {
	dest := ExportPath(o, j, multi)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return client.ExportEntry{}, err
	}
	e := client.ExportEntry{Type: o.Type, Attrs: map[string]string{}, Output: func(map[string]string) (io.WriteCloser, error) {
		return os.Create(dest)
	}}
	if o.Type == client.ExporterOCI {
		e.Attrs["oci-mediatypes"] = "false"
		e.Attrs["rewrite-timestamp"] = "true"
		e.Attrs["name"] = j.Context.Target.Runtime.ID + "-" + j.Context.Target.Variant + ":" + string(j.Arch)
	}
	return e, nil
}
