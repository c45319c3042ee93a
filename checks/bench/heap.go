package bench

import (
	"runtime/metrics"
	"sync"
	"time"
)

// SampleHeap samples the bytes of live and not yet swept heap objects every millisecond until the
// returned function is called, which returns the largest sample: the peak heap of what ran in
// between. It reads runtime/metrics, which does not stop the world as runtime.ReadMemStats does,
// so sampling this often leaves the times of a benchmark alone.
func SampleHeap() func() uint64 {
	var (
		mu   sync.Mutex
		most uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			most = max(most, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}
