// echo_server is the Go peer of goro's examples/echo_server for bench/net/run: a TCP echo server,
// one goroutine per connection, each copying what it reads back to the sender through a 32 KiB
// buffer (what io.Copy does; written out because io.Copy(conn, conn) would take TCPConn's
// ReadFrom path, which on Linux splices through a pipe instead of copying through user space as
// goro's echo_server does).
//
//	echo_server [ADDR]   (default 127.0.0.1:0: a free port)
//
// Prints "listening on ADDR" once it accepts, exits 0 on SIGTERM or SIGINT; the Go runtime takes
// GOMAXPROCS from the environment.
package main

import (
	"errors"
	"fmt"
	"gorobench/benchutil"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF: the client is done; anything else ends the connection alike
		}
	}
}

func main() {
	addr := benchutil.AddrArg()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", l.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		l.Close()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				os.Exit(0) // SIGTERM: the open connections end with the process
			}
			fmt.Fprintf(os.Stderr, "accept: %v\n", err)
			continue
		}
		go serve(c)
	}
}
