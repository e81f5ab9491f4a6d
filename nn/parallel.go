package nn

import (
	"runtime"
	"sync"
)

// ParallelFor calls fn(worker, i) for every i in [0, n), split across
// workers goroutines (workers <= 0: GOMAXPROCS; never more than n). Worker
// w handles the contiguous chunk [w*n/W, (w+1)*n/W), so the assignment of
// indices to workers is deterministic and per-worker state (a Tape, a
// gradient slice) gives reproducible results. ParallelFor returns when all
// calls have returned; a panic in fn is re-raised in the caller.
func ParallelFor(n, workers int, fn func(worker, i int)) {
	if n <= 0 {
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers == 1 {
		for i := 0; i < n; i++ {
			fn(0, i)
		}
		return
	}
	var (
		wg       sync.WaitGroup
		once     sync.Once
		panicked any
	)
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					once.Do(func() { panicked = r })
				}
			}()
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				fn(w, i)
			}
		}(w)
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
