// mutex in Go: n goroutines each lock a sync.Mutex, increment a shared counter and unlock,
// 1,000 times. Checksum: the counter (n * 1000).
package main

import (
	"sync"
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(10_000)
	t0 := time.Now()
	var m sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	wg.Add(int(a.N))
	for i := int64(0); i < a.N; i++ {
		go func() {
			for k := 0; k < 1000; k++ {
				m.Lock()
				counter++
				m.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	benchutil.Report("mutex", a, counter, benchutil.Ms(t0), "")
}
