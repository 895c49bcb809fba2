// Command latencyregistry serves an in-process registry (repository-scoped
// blobs with cross-repository mounts, see pkg/registrytest) on 127.0.0.1
// with a fixed delay before every request, for benchmarks. It writes its
// address to -addr-file once listening, and on SIGINT or SIGTERM (or after
// -timeout) writes what it received to -stats as JSON and exits: totals,
// and requests by kind (ping, token, HEAD manifest, POST mount, PATCH
// upload, ...; see registrytest.Classify). With -trace it also writes one
// line per request (start and end in ms since the first request, kind,
// method, path, status) to find a client's critical path.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/registrytest"
)

// Stats is what the registry received.
type Stats struct {
	Requests      int64 `json:"requests"`
	BlobUploads   int   `json:"blobUploads"`
	BlobMounts    int   `json:"blobMounts"`
	BytesUploaded int64 `json:"bytesUploaded"`
	ManifestPuts  int   `json:"manifestPuts"`
	// DuplicateUploads counts uploads of a blob beyond its first.
	DuplicateUploads int `json:"duplicateUploads"`
	// RequestKinds counts requests by kind (registrytest.Classify).
	RequestKinds map[string]int `json:"requestKinds"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback only)")
	addrFile := flag.String("addr-file", "", "write host:port here once listening")
	statsFile := flag.String("stats", "", "write the stats here on exit (default stdout)")
	latency := flag.Duration("latency", 20*time.Millisecond, "delay before every request")
	timeout := flag.Duration("timeout", 10*time.Minute, "exit after this long")
	traceFile := flag.String("trace", "", "write one line per request here on exit: start_ms end_ms kind method path status")
	flag.Parse()
	if err := run(*addr, *addrFile, *statsFile, *traceFile, *latency, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "latencyregistry:", err)
		os.Exit(1)
	}
}

func run(addr, addrFile, statsFile, traceFile string, latency, timeout time.Duration) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %s: only loopback addresses", addr)
	}
	reg, err := registrytest.New(registrytest.WithLatency(latency))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	tr := &tracer{}
	var h http.Handler = reg
	if traceFile != "" {
		h = tr.middleware(reg)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(timeout):
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)

	if traceFile != "" {
		if err := tr.write(traceFile); err != nil {
			return err
		}
	}
	s := Stats{Requests: reg.Requests(), BytesUploaded: reg.Log().BytesUploaded(), ManifestPuts: len(reg.Log().ManifestPuts()),
		RequestKinds: reg.RequestKinds()}
	for _, n := range reg.Log().BlobUploads() {
		s.BlobUploads += n
		s.DuplicateUploads += n - 1
	}
	for _, n := range reg.Log().Mounts() {
		s.BlobMounts += n
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if statsFile == "" {
		_, err = fmt.Println(string(b))
		return err
	}
	return os.WriteFile(statsFile, append(b, '\n'), 0o644)
}
