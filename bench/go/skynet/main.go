// skynet in Go: a 10-ary tree of goroutines with n leaves; each leaf sends its number and each
// inner goroutine the sum of its children's, over unbuffered channels.
// Checksum: 0 + 1 + ... + (n-1).
package main

import (
	"time"

	"gorobench/benchutil"
)

func skynet(out chan<- int64, first, size int64) {
	if size == 1 {
		out <- first
		return
	}
	kids := int64(10)
	if size < kids {
		kids = size
	}
	c := make(chan int64)
	for i := int64(0); i < kids; i++ {
		go skynet(c, first+size*i/kids, size*(i+1)/kids-size*i/kids)
	}
	var sum int64
	for i := int64(0); i < kids; i++ {
		sum += <-c
	}
	out <- sum
}

func main() {
	a := benchutil.Parse(1_000_000)
	t0 := time.Now()
	c := make(chan int64)
	go skynet(c, 0, a.N)
	sum := <-c
	benchutil.Report("skynet", a, sum, benchutil.Ms(t0), "")
}
