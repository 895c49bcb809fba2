// Package memo runs a function once per key and keeps its result, for
// what one run asks many times over: a base image's digest, a package
// index, an image's inventory. Unlike x/sync/singleflight it remembers
// results (errors too) after the call returns.
package memo

import "sync"

// Map holds one result per key. The zero value is ready to use; a Map
// must not be copied after first use.
type Map[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// Do returns the result of fn for key: the first caller runs fn, the
// others wait for it and get the same value and error.
func (m *Map[K, V]) Do(key K, fn func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[K]*call[V]{}
	}
	c, ok := m.calls[key]
	if !ok {
		c = &call[V]{done: make(chan struct{})}
		m.calls[key] = c
	}
	m.mu.Unlock()
	if !ok {
		c.val, c.err = fn()
		close(c.done)
	}
	<-c.done
	return c.val, c.err
}
