package helper

import (
	"debug/elf"
	"fmt"
	"strings"
)

var machines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

// staticFor checks that path is a statically linked Linux executable for
// arch (any architecture when arch is empty): it must run in any image.
func staticFor(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is not statically linked; build it with CGO_ENABLED=0 (make helper does)", path)
		}
	}
	if want, ok := machines[arch]; ok && f.Machine != want {
		return fmt.Errorf("%s is for %s, not %s", path, f.Machine, arch)
	}
	return nil
}

// missing is Find's error when no place had a helper.
func missing(archs, tried []string) error {
	var plats []string
	for _, a := range archs {
		plats = append(plats, "linux/"+a)
	}
	looked := ""
	if len(tried) > 0 {
		looked = " (looked at " + strings.Join(tried, ", ") + ")"
	}
	return fmt.Errorf("%w for %s%s: lambdaimg runs this small static Linux program inside test containers. "+
		"Release builds (`make release`) embed it; otherwise build it with `make helper` and put bin/%s next to lambdaimg, "+
		"or pass --helper (or set $%s) to it or to a directory of %s files",
		ErrMissing, strings.Join(plats, " or "), looked, FileName(archs[len(archs)-1]), EnvVar, FileName("<arch>"))
}
