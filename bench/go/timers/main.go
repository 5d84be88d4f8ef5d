// timers in Go: n goroutines each sleep 1 + Mix(i) % 20 ms (time.Sleep); reports the wall time
// and how late the wake-ups were (mean, median, p99).
// Checksum: the sum of the requested sleeps in ms, as recorded by the goroutines after waking.
package main

import (
	"sync"
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(100_000)
	slept, lateNs := make([]int64, a.N), make([]int64, a.N)
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(int(a.N))
	for i := int64(0); i < a.N; i++ {
		go func(i int64) {
			d := time.Duration(1+benchutil.Mix(uint64(i))%20) * time.Millisecond
			start := time.Now()
			time.Sleep(d)
			lateNs[i] = int64(time.Since(start) - d)
			slept[i] = d.Milliseconds()
			wg.Done()
		}(i)
	}
	wg.Wait()
	ms := benchutil.Ms(t0)
	var sum int64
	for _, d := range slept {
		sum += d
	}
	benchutil.Report("timers", a, sum, ms, benchutil.Lateness(lateNs))
}
