// http_hello is the Go peer of goro's examples/http_hello for bench/net/run: net/http's server
// (HTTP/1.1, keep-alive) answering GET / with 200 "hello", Content-Type text/plain.
//
//	http_hello [ADDR]   (default 127.0.0.1:0: a free port)
//
// Prints "listening on ADDR" once it accepts, exits 0 on SIGTERM or SIGINT; the Go runtime takes
// GOMAXPROCS from the environment.
package main

import (
	"errors"
	"fmt"
	"gorobench/benchutil"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := benchutil.AddrArg()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello"))
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", l.Addr())

	srv := &http.Server{Handler: mux}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.Close() // closes the listener and every connection
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
