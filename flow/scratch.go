package flow

import "sync"

// scratchPool keeps per-call workspace for reuse, as nn's Net does for its
// own: a stack, so that one goroutine gets the same cache-warm buffers back
// on every call and concurrent calls get one each. It grows to the largest
// number of concurrent calls and never shrinks, so calls allocate only
// while it grows. It is safe for concurrent use.
type scratchPool[S any] struct {
	mu   sync.Mutex
	free []*S
	make func() *S
}

// newScratchPool returns a pool whose new workspace comes from fresh.
func newScratchPool[S any](fresh func() *S) *scratchPool[S] {
	return &scratchPool[S]{free: make([]*S, 0, 8), make: fresh}
}

// get returns workspace for the caller's exclusive use until put.
func (p *scratchPool[S]) get() *S {
	p.mu.Lock()
	if k := len(p.free); k > 0 {
		s := p.free[k-1]
		p.free = p.free[:k-1]
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	return p.make()
}

// put gives s back to the pool.
func (p *scratchPool[S]) put(s *S) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}
