// memory in Go: n goroutines parked on one unbuffered channel; reports the resident memory per
// parked goroutine (VmRSS once all have started, minus VmRSS before, over n), then closes the
// channel to release them. ms: spawn, park and release all.
// Checksum: the sum of i + 1 over the released goroutines.
package main

import (
	"fmt"
	"sync"
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(1_000_000)
	released := make([]byte, a.N)
	ch := make(chan int)
	var started, finished sync.WaitGroup
	started.Add(int(a.N))
	finished.Add(int(a.N))
	rss0 := benchutil.StatusKB("VmRSS") * 1024
	t0 := time.Now()
	for i := int64(0); i < a.N; i++ {
		go func(i int64) {
			started.Done()
			<-ch
			released[i] = 1
			finished.Done()
		}(i)
	}
	started.Wait()
	rss1 := benchutil.StatusKB("VmRSS") * 1024
	close(ch)
	finished.Wait()
	ms := benchutil.Ms(t0)
	benchutil.Report("memory", a, benchutil.SumMarked(released), ms,
		fmt.Sprintf(" bytes_per_fiber=%d", (rss1-rss0)/a.N))
}
