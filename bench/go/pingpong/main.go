// pingpong in Go: n round trips between two goroutines over two unbuffered channels (the echo
// goroutine replies with the request plus one). Checksum: the sum of the replies.
package main

import (
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(1_000_000)
	t0 := time.Now()
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	var sum int64
	for i := int64(0); i < a.N; i++ {
		ping <- i
		sum += <-pong
	}
	close(ping)
	benchutil.Report("pingpong", a, sum, benchutil.Ms(t0), "")
}
