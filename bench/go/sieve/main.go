// sieve in Go: the concurrent prime sieve. A generator goroutine sends 2, 3, 4, ... through a
// daisy chain of filter goroutines, one per prime found, over unbuffered channels, until main
// has n primes; then the generator stops and the chain drains and closes from its head.
// Checksum: the sum of the first n primes.
package main

import (
	"sync/atomic"
	"time"

	"gorobench/benchutil"
)

func filter(in <-chan int64, out chan<- int64, prime int64) {
	for v := range in {
		if v%prime != 0 {
			out <- v
		}
	}
	close(out)
}

func main() {
	a := benchutil.Parse(5_000)
	t0 := time.Now()
	var stop atomic.Bool
	ch := make(chan int64)
	go func(out chan<- int64) {
		for i := int64(2); !stop.Load(); i++ {
			out <- i
		}
		close(out)
	}(ch)
	var sum int64
	for k := int64(0); k < a.N; k++ {
		prime := <-ch
		sum += prime
		next := make(chan int64)
		go filter(ch, next, prime)
		ch = next
	}
	stop.Store(true)
	for range ch {
	}
	benchutil.Report("sieve", a, sum, benchutil.Ms(t0), "")
}
