package build

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
)

// display is one progress display for a whole run. Each solve gets its own
// status channel; its vertices are renamed "[target platform] name" and
// forwarded into the display's single channel.
type display struct {
	ch       chan *client.SolveStatus
	wg       sync.WaitGroup
	done     chan struct{}
	err      error
	warnings []client.VertexWarning
}

func newDisplay(out io.Writer, mode string) (*display, error) {
	if mode == "" {
		mode = string(progressui.AutoMode)
	}
	d, err := progressui.NewDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		return nil, fmt.Errorf("--progress %s: %w", mode, err)
	}
	disp := &display{ch: make(chan *client.SolveStatus), done: make(chan struct{})}
	go func() {
		defer close(disp.done)
		// Not the run's context: keep draining so failures get printed.
		disp.warnings, disp.err = d.UpdateFrom(context.Background(), disp.ch)
		for range disp.ch { // should the display stop early, keep the solves flowing
		}
	}()
	return disp, nil
}

// attach returns the status channel for one solve. The solve closes it.
func (d *display) attach(prefix string) chan *client.SolveStatus {
	in := make(chan *client.SolveStatus)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for s := range in {
			for _, v := range s.Vertexes {
				v.Name = "[" + prefix + "] " + v.Name
			}
			d.ch <- s
		}
	}()
	return in
}

// close waits for every attached solve to finish and the display to drain.
func (d *display) close() ([]client.VertexWarning, error) {
	d.wg.Wait()
	close(d.ch)
	<-d.done
	return d.warnings, d.err
}
