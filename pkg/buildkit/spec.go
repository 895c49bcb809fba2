package buildkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/lambdaimg/lambdaimg/pkg/buildkit/spec"
	"github.com/moby/buildkit/client"
)

// Spec names one builder of a pool (see spec.Builder for its text form).
type Spec = spec.Builder

// ParseSpec parses the text form of a Spec.
func ParseSpec(s string) (Spec, error) { return spec.Parse(s) }

// clientOpts are the TLS options of the spec, as buildctl sets them: the
// server name defaults to the address's host.
func clientOpts(sp Spec) []client.ClientOpt {
	var opts []client.ClientOpt
	if sp.CACert != "" {
		name := sp.ServerName
		if name == "" {
			name = hostOf(sp.Addr)
		}
		opts = append(opts, client.WithServerConfig(name, sp.CACert))
	}
	if sp.Cert != "" {
		opts = append(opts, client.WithCredentials(sp.Cert, sp.Key))
	}
	return opts
}

// hostOf is the host of tcp://host:port (empty for other forms).
func hostOf(addr string) string {
	_, rest, _ := strings.Cut(addr, "://")
	rest, _, _ = strings.Cut(rest, "/")
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		rest = rest[:i]
	}
	return strings.Trim(rest, "[]")
}

// DialSpec connects to the builder sp names, within o.Timeout. Platforms
// named in sp replace what the daemon reports, and are all taken as
// native: naming them is how a pool says where each platform goes.
func DialSpec(ctx context.Context, sp Spec, o Options) (*Conn, error) {
	o.defaults()
	c, err := dial(ctx, o, sp.Addr, sourceOf(sp), clientOpts(sp)...)
	if err != nil {
		return nil, tlsHint(sp, err)
	}
	if len(sp.Platforms) > 0 {
		var keep []string
		for _, p := range sp.Platforms {
			if !c.Supports(p) {
				c.Close()
				return nil, fmt.Errorf("builder %s: named for %s, but its workers build only %s", sp.Addr, p, strings.Join(c.Platforms, ", "))
			}
			keep = append(keep, p)
		}
		c.Platforms, c.Native = keep, keep
	}
	return c, nil
}

// tlsHint puts what the TLS settings may lack before a connection error.
// A daemon that wants a client certificate ends the handshake with
// "certificate required", or (TLS 1.3 racing the first write) just closes
// the connection.
func tlsHint(sp Spec, err error) error {
	msg := err.Error()
	refused := strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host")
	switch {
	case refused:
		return err
	case sp.CACert != "" && sp.Cert == "" && (strings.Contains(msg, "certificate") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "reset") || strings.Contains(msg, "EOF")):
		return fmt.Errorf("builder %s refused a connection without a client certificate: add cert=FILE,key=FILE to the builder: %w", sp.Addr, err)
	case sp.CACert == "" && strings.HasPrefix(sp.Addr, "tcp://") && (strings.Contains(msg, "tls") || strings.Contains(msg, "EOF") || strings.Contains(msg, "preface")):
		return fmt.Errorf("builder %s does not speak plain gRPC; if it wants TLS, add cacert=FILE (and cert=FILE,key=FILE): %w", sp.Addr, err)
	case strings.Contains(msg, "certificate"):
		return fmt.Errorf("builder %s: check its cacert, cert, key and servername: %w", sp.Addr, err)
	}
	return err
}
