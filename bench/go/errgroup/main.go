// errgroup in Go: n tasks, at most 8 at a time (SetLimit(8)); each task stores i + 1 and
// returns nil. Checksum: the sum of the stored values.
package main

import (
	"sync"
	"time"

	"gorobench/benchutil"
)

// group is golang.org/x/sync/errgroup.Group with SetLimit, written out with the same
// construction (a channel of tokens and a WaitGroup): the benchmarks download nothing.
type group struct {
	wg   sync.WaitGroup
	sem  chan struct{}
	once sync.Once
	err  error
}

func (g *group) setLimit(n int) { g.sem = make(chan struct{}, n) }

func (g *group) done() {
	if g.sem != nil {
		<-g.sem
	}
	g.wg.Done()
}

func (g *group) Go(f func() error) {
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	g.wg.Add(1)
	go func() {
		defer g.done()
		if err := f(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}

func main() {
	a := benchutil.Parse(1_000_000)
	got := make([]int64, a.N)
	t0 := time.Now()
	var g group
	g.setLimit(8)
	for i := int64(0); i < a.N; i++ {
		i := i
		g.Go(func() error {
			got[i] = i + 1
			return nil
		})
	}
	err := g.Wait()
	ms := benchutil.Ms(t0)
	if err != nil {
		benchutil.Fail("errgroup: " + err.Error())
	}
	var sum int64
	for _, v := range got {
		sum += v
	}
	benchutil.Report("errgroup", a, sum, ms, "")
}
