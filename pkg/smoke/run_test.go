package smoke

import (
	"strings"
	"sync"
	"testing"
)

func TestReportErrNamesTheCause(t *testing.T) {
	r := &Report{
		Checks: []Check{{Name: "entrypoint contract", OK: true}, {Name: "invoke", Detail: "HTTP 502"}},
		Log: `24 Nov 2026 15:35:02,775 [INFO] (rapid) exec '/var/runtime/bootstrap'
no bootstrap: put the function's executable at /var/task/bootstrap
START RequestId: 1 Version: $LATEST
24 Nov 2026 15:35:02,777 [WARNING] (rapid) First fatal error stored in appctx: Runtime.ExitError
END RequestId: 1
REPORT RequestId: 1	Duration: 2.00 ms
`,
	}
	err := r.Err()
	if !r.Failed() || err == nil {
		t.Fatal("a failed check must fail the report")
	}
	want := "invoke: HTTP 502 (the function's last words: no bootstrap: put the function's executable at /var/task/bootstrap)"
	if err.Error() != want {
		t.Errorf("Err = %q, want %q", err, want)
	}
	ok := &Report{Checks: []Check{{Name: "a", OK: true}}}
	if ok.Failed() || ok.Err() != nil {
		t.Error("a passing report failed")
	}
}

func TestSyncBufferCapturesConcurrentWrites(t *testing.T) {
	var b syncBuffer
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				b.Write([]byte("line\n"))
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "line\n"); n != 800 {
		t.Errorf("captured %d lines, want 800", n)
	}
}
