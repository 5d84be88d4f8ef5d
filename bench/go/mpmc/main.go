// mpmc in Go: 4 producers and 4 consumers share one buffered channel (capacity 1024) carrying
// the values 0 .. n-1. Checksum: the sum of the values received.
package main

import (
	"sync"
	"time"

	"gorobench/benchutil"
)

const producers, consumers = 4, 4

func main() {
	a := benchutil.Parse(10_000_000)
	t0 := time.Now()
	ch := make(chan int64, 1024)
	sums := make(chan int64)
	var sending sync.WaitGroup
	sending.Add(producers)
	for p := int64(0); p < producers; p++ {
		go func(p int64) {
			for v := a.N * p / producers; v < a.N*(p+1)/producers; v++ {
				ch <- v
			}
			sending.Done()
		}(p)
	}
	for c := 0; c < consumers; c++ {
		go func() {
			var sum int64
			for v := range ch {
				sum += v
			}
			sums <- sum
		}()
	}
	sending.Wait()
	close(ch)
	var sum int64
	for c := 0; c < consumers; c++ {
		sum += <-sums
	}
	benchutil.Report("mpmc", a, sum, benchutil.Ms(t0), "")
}
