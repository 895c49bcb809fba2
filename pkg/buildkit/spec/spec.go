// Package spec parses the builders of a pool as --builder and the
// catalog's builders name them. It has no BuildKit dependency, so the
// catalog can validate them.
package spec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
)

// Builder names one builder of a pool: an address of any scheme BuildKit's
// client accepts (unix, tcp, docker-container, kube-pod, ssh, ...), TLS
// files as buildctl takes them, the platforms to build there and a limit
// on the jobs it runs at once. Its text form is
//
//	ADDR[,cacert=FILE][,cert=FILE][,key=FILE][,servername=NAME][,platform=P]...[,jobs=N]
//
// e.g. tcp://arm1:1234,cacert=ca.pem,cert=c.pem,key=k.pem,platform=linux/arm64,jobs=2.
type Builder struct {
	Addr       string   `json:"address"`
	CACert     string   `json:"cacert,omitempty"`
	Cert       string   `json:"cert,omitempty"`
	Key        string   `json:"key,omitempty"`
	ServerName string   `json:"servername,omitempty"`
	Platforms  []string `json:"platforms,omitempty"` // empty: the daemon's workers say
	Jobs       int      `json:"jobs,omitempty"`      // 0: only the run's --jobs bounds it
	// Source says where the builder was named: a config file's path,
	// "catalog"; empty for --builder.
	Source string `json:"-"`
}

// Parse parses the text form of a Builder (see Builder).
func Parse(s string) (Builder, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	sp := Builder{Addr: parts[0]}
	if !strings.Contains(sp.Addr, "://") {
		return sp, fmt.Errorf("builder %q: want an address SCHEME://..., e.g. tcp://host:1234 or docker-container://name", s)
	}
	var errs []error
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("builder %q: option %q: want key=value", sp.Addr, kv))
			continue
		}
		if err := sp.set(k, v); err != nil {
			errs = append(errs, fmt.Errorf("builder %q: %w", sp.Addr, err))
		}
	}
	if (sp.Cert == "") != (sp.Key == "") {
		errs = append(errs, fmt.Errorf("builder %q: cert and key go together", sp.Addr))
	}
	return sp, errors.Join(errs...)
}

func (sp *Builder) set(k, v string) error {
	switch k {
	case "cacert":
		sp.CACert = v
	case "cert":
		sp.Cert = v
	case "key":
		sp.Key = v
	case "servername":
		sp.ServerName = v
	case "platform":
		p, err := platforms.Parse(v)
		if err != nil {
			return fmt.Errorf("platform %q: %w", v, err)
		}
		sp.Platforms = append(sp.Platforms, platforms.Format(platforms.Normalize(p)))
	case "jobs":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("jobs %q: want a number of at least 1", v)
		}
		sp.Jobs = n
	default:
		return fmt.Errorf("unknown option %q: want cacert, cert, key, servername, platform or jobs", k)
	}
	return nil
}

// String is the address (without the TLS files).
func (sp Builder) String() string { return sp.Addr }
