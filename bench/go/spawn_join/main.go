// spawn_join in Go: n goroutines, each marking its flag and a sync.WaitGroup done; main waits
// for all. Checksum: the sum of i + 1 over the goroutines that ran.
package main

import (
	"sync"
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(1_000_000)
	ran := make([]byte, a.N)
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(int(a.N))
	for i := int64(0); i < a.N; i++ {
		go func(i int64) {
			ran[i] = 1
			wg.Done()
		}(i)
	}
	wg.Wait()
	ms := benchutil.Ms(t0)
	benchutil.Report("spawn_join", a, benchutil.SumMarked(ran), ms, "")
}
