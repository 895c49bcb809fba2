package catalog

import (
	"fmt"
	"strings"
)

// AllOS is the key of a Missing map that stands for every OS family.
const AllOS OS = "all"

// ErrAL1 is the error of asking for a variant on Amazon Linux 2018.03.
var ErrAL1 = fmt.Errorf("the Runtime Interface Client does not support Amazon Linux 2018.03 (alami): "+
	"build on %s, or use the aws variant (AWS's own base image)", orList(RICOSes))

// al1Names are the names Amazon Linux 2018.03 goes by.
var al1Names = []string{string(AL201803), "alami", "al1", "amazonlinux1", "al2018"}

// IsAL1 reports whether name (a variant name or OS family) means Amazon
// Linux 2018.03.
func IsAL1(name string) bool { return contains(al1Names, strings.ToLower(name)) }

// Missing returns, for each OS family the Runtime Interface Client builds
// on where r has no variant, why: the runtime's reason for that family, or
// its reason for all, or the language's for that family, or the
// language's for all; "" when the catalog gives none.
func (c *Catalog) Missing(r *Runtime) map[OS]string {
	have := map[OS]bool{}
	for name := range r.Variants {
		if r.Language.Valid() {
			have[resolveVariant(c, r, name).OS] = true
		}
	}
	ld := c.Languages[r.Language]
	out := map[OS]string{}
	for _, o := range RICOSes {
		if have[o] {
			continue
		}
		out[o] = firstNonEmpty(r.Missing[o], r.Missing[AllOS], ld.Missing[o], ld.Missing[AllOS])
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// orList spells list as "a, b or c".
func orList(list []OS) string {
	s := make([]string, len(list))
	for i, o := range list {
		s[i] = string(o)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// missing checks a Missing map: its keys are OS families (or all) and a
// reason given for one runtime must not contradict a variant it has.
func (v *validator) missing(file, path string, m map[OS]string, r *Runtime) {
	for _, o := range sortedKeys(m) {
		p := path + "." + string(o)
		switch {
		case o != AllOS && !contains(RICOSes, o):
			v.addf(file, p, "os %q is not one of %s or %q", o, quoteList(RICOSes), AllOS)
		case strings.TrimSpace(m[o]) == "":
			v.addf(file, p, "the reason is empty")
		case r != nil && o != AllOS && r.Language.Valid():
			for name := range r.Variants {
				if resolveVariant(v.c, r, name).OS == o {
					v.addf(file, p, "the runtime has a variant on %s (%s): no reason is needed", o, name)
				}
			}
		}
	}
}

// noVariant is the error of selecting variants r does not have; it gives
// the catalog's reason for each OS family asked for.
func (c *Catalog) noVariant(r *Runtime, want []string) error {
	msg := fmt.Sprintf("runtime %s has no variant %s: it has %v", r.ID, strings.Join(want, ","), sortedKeys(r.Variants))
	missing := c.Missing(r)
	for _, w := range want {
		if why := missing[familyOf(w)]; why != "" {
			msg += fmt.Sprintf("; not on %s: %s", familyOf(w), why)
		}
	}
	return fmt.Errorf("%s", msg)
}
