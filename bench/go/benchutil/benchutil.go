// Package benchutil is shared by the Go workload programs and mirrors bench/common.hpp: the
// command line `[-w workers] [n]`, VmRSS, the pseudo-random mix shared by all three languages,
// and the one machine-readable RESULT line, ending with the peak RSS (VmHWM).
package benchutil

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Args are the command line: -w workers (GOMAXPROCS; default: the hardware threads) and n.
type Args struct {
	Workers int
	N       int64
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s [-w workers] [n]\n", os.Args[0])
	os.Exit(2)
}

// Parse reads the command line and sets GOMAXPROCS to the worker count.
func Parse(defaultN int64) Args {
	flag.Usage = usage
	w := flag.Int("w", runtime.NumCPU(), "worker threads (GOMAXPROCS)")
	flag.Parse()
	a := Args{Workers: *w, N: defaultN}
	if flag.NArg() > 1 || a.Workers <= 0 {
		usage()
	}
	if flag.NArg() == 1 {
		n, err := strconv.ParseInt(flag.Arg(0), 10, 64)
		if err != nil || n <= 0 {
			usage()
		}
		a.N = n
	}
	runtime.GOMAXPROCS(a.Workers)
	return a
}

// Fail prints an error and exits with status 1.
func Fail(msg string) {
	fmt.Fprintf(os.Stderr, "error: %s\n", msg)
	os.Exit(1)
}

// Ms is the time since t0 in milliseconds.
func Ms(t0 time.Time) float64 { return float64(time.Since(t0).Nanoseconds()) / 1e6 }

// StatusKB is a "Vm…:" line of /proc/self/status in kB: VmRSS (resident now), VmHWM (peak).
func StatusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		Fail(err.Error())
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := s.Text(); strings.HasPrefix(line, key+":") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			if err != nil {
				Fail("bad line in /proc/self/status: " + line)
			}
			return kb
		}
	}
	Fail("no " + key + " in /proc/self/status")
	return 0
}

// Mix is splitmix64's finalizer: the pseudo-random numbers all three languages agree on.
func Mix(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// SumMarked is the sum of i + 1 over the set flags: proves which goroutines ran.
func SumMarked(flags []byte) int64 {
	var s int64
	for i, f := range flags {
		if f != 0 {
			s += int64(i) + 1
		}
	}
	return s
}

// Lateness is " late_mean_us=… late_median_us=… late_p99_us=…" for samples in nanoseconds.
func Lateness(ns []int64) string {
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	sum := 0.0
	for _, v := range ns {
		sum += float64(v)
	}
	n := len(ns)
	p99 := n * 99 / 100
	if p99 > n-1 {
		p99 = n - 1
	}
	return fmt.Sprintf(" late_mean_us=%.1f late_median_us=%.1f late_p99_us=%.1f",
		sum/float64(n)/1e3, float64(ns[n/2])/1e3, float64(ns[p99])/1e3)
}

// Report prints the one machine-readable line; extra is " key=value" pairs.
func Report(workload string, a Args, checksum int64, ms float64, extra string) {
	fmt.Printf("RESULT workload=%s impl=go workers=%d n=%d checksum=%d ms=%.3f%s peak_rss_kb=%d\n",
		workload, a.Workers, a.N, checksum, ms, extra, StatusKB("VmHWM"))
}

// AddrArg is the network servers' command line, `[ADDR]`: the listen address, 127.0.0.1:0 (a free
// port) when omitted.
func AddrArg() string {
	if len(os.Args) > 2 {
		fmt.Fprintf(os.Stderr, "usage: %s [ADDR]\n", os.Args[0])
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		return os.Args[1]
	}
	return "127.0.0.1:0"
}
