package build

import (
	"time"

	"github.com/lambdaimg/lambdaimg/pkg/catalog"
	"github.com/lambdaimg/lambdaimg/pkg/render"
)

// Job is one image to build: a rendered context for one architecture.
type Job struct {
	Context *render.Context
	Arch    catalog.Arch
	// Extensions is a directory laid out as /opt (see pkg/extension) that
	// the Dockerfile copies in as the named context "extensions"; empty
	// for none.
	Extensions string
	// Images replace the defaults of the Dockerfile's *_IMAGE arguments
	// (before registry mirrors), e.g. with REPOSITORY@DIGEST from a lock.
	// Every job of one Context must have the same.
	Images map[string]string
}

// Name is "runtime/variant linux/arch".
func (j Job) Name() string { return j.Context.Target.Name() + " " + j.Arch.Platform() }

// Status is how a job ended.
type Status string

// The statuses of a job.
const (
	Built     Status = "built"
	Unchanged Status = "unchanged" // inputs and options as stored: not rebuilt
	Failed    Status = "failed"
	Skipped   Status = "skipped" // this machine cannot build it
	Canceled  Status = "canceled"
)

// Result is the outcome of one job.
type Result struct {
	Target   string  `json:"target"`
	Runtime  string  `json:"runtime"`
	Variant  string  `json:"variant"`
	Platform string  `json:"platform"`
	Status   Status  `json:"status"`
	Digest   string  `json:"digest,omitempty"`
	Size     int64   `json:"size,omitempty"`
	Seconds  float64 `json:"seconds"`
	Reason   string  `json:"reason,omitempty"`
	// FailedLines are the generated Dockerfile's lines that failed.
	FailedLines []string `json:"failedLines,omitempty"`
	// Store is the ref name of the stored image (runtime/variant/arch).
	Store string `json:"store,omitempty"`
	// Gates are the gates the image went through, in order.
	Gates []GateResult `json:"gates,omitempty"`
	// Builder is the address of the BuildKit daemon that built the image
	// (empty when it was not built: unchanged, skipped).
	Builder string `json:"builder,omitempty"`
	// Retried is set when the job's first builder stopped answering during
	// the build and the job ran again on Builder; Note says what happened.
	Retried bool   `json:"retried,omitempty"`
	Note    string `json:"note,omitempty"`
	// Export is what the image's export moved from the builder (nil when
	// it was not built).
	Export *ExportStats `json:"export,omitempty"`

	Duration time.Duration `json:"-"`
}

// ExportStats is what one export moved: the bytes the builder sent, and
// the bytes and blobs it did not send because this machine had them (the
// base image's layers read from the registry during the build, the store's
// blobs, those of images exported earlier in the run).
type ExportStats struct {
	ReceivedBytes int64 `json:"receivedBytes"`
	LocalBytes    int64 `json:"localBytes"`
	LocalBlobs    int64 `json:"localBlobs"`
}

// OK reports whether the job left a good image in the store.
func (r Result) OK() bool { return r.Status == Built || r.Status == Unchanged }

// Summary counts results by how they ended.
type Summary struct {
	Failed, Skipped, OK int
}

// Summarize counts the results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch {
		case r.Status == Failed || r.Status == Canceled:
			s.Failed++
		case r.Status == Skipped:
			s.Skipped++
		case r.OK():
			s.OK++
		}
	}
	return s
}
