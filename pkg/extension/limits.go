package extension

import (
	"context"
	"fmt"
	"io"
)

// Limits bound what Layout reads and writes for one image. A zero field
// takes its default.
type Limits struct {
	// Size is the bytes laid out in all, after unzipping (default 1 GiB).
	Size int64
	// ZipSize is the bytes of one zip file as given (default 256 MiB).
	ZipSize int64
	// Files is the files and directories laid out (default 10,000).
	Files int
	// PathLen is the length of a laid-out path under /opt (default 1024).
	PathLen int
}

// DefaultLimits returns the limits Layout applies when given none.
func DefaultLimits() Limits {
	return Limits{Size: 1 << 30, ZipSize: 256 << 20, Files: 10_000, PathLen: 1024}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Size > 0 {
		d.Size = l.Size
	}
	if l.ZipSize > 0 {
		d.ZipSize = l.ZipSize
	}
	if l.Files > 0 {
		d.Files = l.Files
	}
	if l.PathLen > 0 {
		d.PathLen = l.PathLen
	}
	return d
}

// LimitError is an input over one of the limits; Limit names it as the
// --limit flag does (extension-size, extension-zip-size, extension-files,
// path-length).
type LimitError struct {
	Limit string
	Max   int64
	What  string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: over the limit of %s (raise it with --limit %s=N)", e.What, human(e.Limit, e.Max), e.Limit)
}

func human(limit string, n int64) string {
	if limit != "extension-size" && limit != "extension-zip-size" {
		return fmt.Sprint(n)
	}
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// budget counts what a layout has used of its limits.
type budget struct {
	ctx   context.Context
	lim   Limits
	size  int64
	files int
}

// reserve takes n bytes of the size budget, for what.
func (b *budget) reserve(n int64, what string) error {
	if n < 0 || b.size+n > b.lim.Size || b.size+n < b.size {
		return &LimitError{Limit: "extension-size", Max: b.lim.Size, What: what}
	}
	b.size += n
	return nil
}

// entry counts one file or directory with its path under /opt.
func (b *budget) entry(rel string) error {
	if len(rel) > b.lim.PathLen {
		return &LimitError{Limit: "path-length", Max: int64(b.lim.PathLen), What: fmt.Sprintf("the path %.60q... is %d bytes long", rel, len(rel))}
	}
	b.files++
	if b.files > b.lim.Files {
		return &LimitError{Limit: "extension-files", Max: int64(b.lim.Files), What: "the extensions hold too many files and directories"}
	}
	return nil
}

// copy copies src to dst, counting every byte against the size budget and
// stopping when the context is cancelled.
func (b *budget) copy(dst io.Writer, src io.Reader, what string) error {
	buf := make([]byte, 64<<10)
	for {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if err := b.reserve(int64(n), what); err != nil {
				return err
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
