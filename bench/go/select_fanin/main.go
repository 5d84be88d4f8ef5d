// select_fanin in Go: 4 producers, each on its own unbuffered channel, send the values 0 .. n-1
// between them; one consumer selects over the 4 channels, setting each to nil once it is
// closed. Checksum: the sum of the values received.
package main

import (
	"time"

	"gorobench/benchutil"
)

func main() {
	a := benchutil.Parse(2_000_000)
	t0 := time.Now()
	var chs [4]chan int64
	for p := int64(0); p < 4; p++ {
		chs[p] = make(chan int64)
		go func(c chan<- int64, p int64) {
			for v := a.N * p / 4; v < a.N*(p+1)/4; v++ {
				c <- v
			}
			close(c)
		}(chs[p], p)
	}
	var sum int64
	open := 4
	on := func(k int, v int64, ok bool) {
		if ok {
			sum += v
		} else {
			chs[k] = nil
			open--
		}
	}
	for open > 0 {
		select {
		case v, ok := <-chs[0]:
			on(0, v, ok)
		case v, ok := <-chs[1]:
			on(1, v, ok)
		case v, ok := <-chs[2]:
			on(2, v, ok)
		case v, ok := <-chs[3]:
			on(3, v, ok)
		}
	}
	benchutil.Report("select_fanin", a, sum, benchutil.Ms(t0), "")
}
