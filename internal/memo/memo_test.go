package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDoOncePerKey: many concurrent callers of two keys run each key's
// function once and all get its result; an error is kept like a value.
func TestDoOncePerKey(t *testing.T) {
	var m Map[string, int]
	var runs atomic.Int32
	boom := errors.New("boom")
	fn := func(key string) func() (int, error) {
		return func() (int, error) {
			runs.Add(1)
			if key == "bad" {
				return 0, boom
			}
			return len(key), nil
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		for _, key := range []string{"good", "bad"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := m.Do(key, fn(key))
				if key == "good" && (v != 4 || err != nil) {
					t.Errorf("Do(good) = %d, %v", v, err)
				}
				if key == "bad" && !errors.Is(err, boom) {
					t.Errorf("Do(bad) = %d, %v", v, err)
				}
			}()
		}
	}
	wg.Wait()
	if n := runs.Load(); n != 2 {
		t.Errorf("functions ran %d times, want once per key (2)", n)
	}
}
