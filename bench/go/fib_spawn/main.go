// fib_spawn in Go: fib(n) computed naively, in parallel: every call runs in its own goroutine
// and, for n >= 2, spawns two goroutines for its sub-calls and receives their results over an
// unbuffered channel. Checksum: fib(n).
package main

import (
	"time"

	"gorobench/benchutil"
)

func fib(out chan<- int64, n int64) {
	if n < 2 {
		out <- n
		return
	}
	c := make(chan int64)
	go fib(c, n-1)
	go fib(c, n-2)
	x := <-c
	out <- x + <-c
}

func main() {
	a := benchutil.Parse(27)
	t0 := time.Now()
	c := make(chan int64)
	go fib(c, a.N)
	result := <-c
	benchutil.Report("fib_spawn", a, result, benchutil.Ms(t0), "")
}
