package buildkit

import (
	"context"
	"errors"
	"io"

	controlapi "github.com/moby/buildkit/api/services/control"
)

// Info is what `lambdaimg builder ls` says of a builder.
type Info struct {
	Address   string     `json:"address"`
	Source    string     `json:"source"`
	Reachable bool       `json:"reachable"`
	Error     string     `json:"error,omitempty"`
	Version   string     `json:"version,omitempty"`
	Platforms []Platform `json:"platforms,omitempty"`
	// JobLimit is the builder's jobs= (0: none of its own).
	JobLimit int `json:"jobLimit,omitempty"`
	// Running counts the builds the daemon runs now, from any client
	// (other lambdaimg runs, buildctl, buildx), from its build history;
	// -1 when the daemon does not say. lambdaimg keeps no count of its own
	// between runs, so a builder's share of one run is in that run's
	// summary (the builder of each image).
	Running int `json:"running"`
}

// Platform is one platform a builder builds, and whether natively.
type Platform struct {
	Platform string `json:"platform"`
	Native   bool   `json:"native"`
}

// List describes the builders specs name, at once; with none, the daemon
// a build would use (never starting the embedded one).
func List(ctx context.Context, specs []Spec, o Options) []Info {
	o.defaults()
	if len(specs) == 0 {
		o.NoStart = true
		c, err := Connect(ctx, o)
		if err != nil {
			addr, source := o.Addr, SourceFlag
			if addr == "" {
				addr, source = EmbeddedAddr(o.StateDir), SourceEmbedded
			}
			return []Info{{Address: addr, Source: source, Error: err.Error(), Running: -1}}
		}
		defer c.Close()
		return []Info{describe(ctx, c, 0)}
	}
	members := dialAll(ctx, specs, o)
	out := make([]Info, len(members))
	for i, m := range members {
		if m.Err != nil {
			out[i] = Info{Address: m.Spec.Addr, Source: sourceOf(m.Spec), JobLimit: m.Spec.Jobs, Error: m.Err.Error(), Running: -1}
			continue
		}
		out[i] = describe(ctx, m.Conn, m.Spec.Jobs)
		m.Conn.Close()
	}
	return out
}

func describe(ctx context.Context, c *Conn, limit int) Info {
	in := Info{Address: c.Addr, Source: c.Source, Reachable: true, Version: c.Version, JobLimit: limit, Running: running(ctx, c)}
	for _, p := range c.Platforms {
		in.Platforms = append(in.Platforms, Platform{Platform: p, Native: c.IsNative(p)})
	}
	return in
}

// running counts the daemon's active builds, or is -1 when it cannot say.
func running(ctx context.Context, c *Conn) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{ActiveOnly: true, EarlyExit: true})
	if err != nil {
		return -1
	}
	active := map[string]bool{}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return len(active)
		}
		if err != nil {
			return -1
		}
		switch ev.Type {
		case controlapi.BuildHistoryEventType_COMPLETE, controlapi.BuildHistoryEventType_DELETED:
			delete(active, ev.Record.Ref)
		default:
			active[ev.Record.Ref] = true
		}
	}
}
