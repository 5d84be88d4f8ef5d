#!/usr/bin/env bash
# Checks a network example server end to end:
#   net_check.sh EXAMPLES_DIR echo|http|kv
# starts the server (echo_server, http_hello or kv_server from EXAMPLES_DIR) on 127.0.0.1:0,
# learns its port from its "listening on ADDR" line, drives it with real clients (echo_client;
# wrk and raw requests; redis-cli and redis-benchmark and raw frames), throws random bytes at
# it, then sends SIGTERM and requires a clean exit (status 0) within 5 s. Prints
# "net_check MODE: ok" on success, "net_check MODE: FAIL: ..." otherwise. Every step is bounded
# by `timeout`.

set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 EXAMPLES_DIR echo|http|kv" >&2
  exit 2
fi
dir=$1
mode=$2
case "$mode" in
  echo) server=echo_server ;;
  http) server=http_hello ;;
  kv) server=kv_server ;;
  *) echo "net_check: unknown mode '$mode' (echo, http or kv)" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
pid=
fail() {
  echo "net_check $mode: FAIL: $*"
  exit 1
}
cleanup() {
  local status=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [ -s "$tmp/server.err" ]; then
    echo "--- $server's stderr:"
    cat "$tmp/server.err"
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
step() { echo "== $*"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
t_start=$(ms)

# ---- Start the server and read its address (no sleeping: we wait for the line itself) ----
coproc SRV { exec "$dir/$server" 127.0.0.1:0 2>"$tmp/server.err"; }
pid=$SRV_PID
line=
read -r -t 10 -u "${SRV[0]}" line || fail "$server did not print 'listening on ADDR' within 10 s"
[[ "$line" =~ ^listening\ on\ (127\.0\.0\.1:([0-9]+))$ ]] || fail "unexpected first line: '$line'"
addr=${BASH_REMATCH[1]}
port=${BASH_REMATCH[2]}
step "$server listening on $addr (pid $pid)"

alive() { kill -0 "$pid" 2>/dev/null || fail "$server died ($*)"; }

# Sends the bytes of $1 (printf format) on a new connection and prints everything the server
# answers until it closes the connection (or 5 s pass).
exchange() {
  local fd
  exec {fd}<>"/dev/tcp/127.0.0.1/$port"
  # shellcheck disable=SC2059
  printf "$1" >&"$fd"
  timeout 5 cat <&"$fd" || true
  exec {fd}>&-
}

# Throws 100 kB of random bytes at the server, then checks it is still running.
garbage() {
  step "100 kB of random bytes"
  head -c 100000 /dev/urandom | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$port" 2>/dev/null || true
  alive "after random bytes"
}

case "$mode" in
  echo)
    step "echo_client $addr 2000 50"
    timeout 60 "$dir/echo_client" "$addr" 2000 50 || fail "echo_client failed"
    garbage
    timeout 10 "$dir/echo_client" "$addr" 20 2 >/dev/null || fail "echo_client failed after garbage"
    ;;

  http)
    step "wrk -t1 -c100 -d3s http://$addr/"
    timeout 30 wrk -t1 -c100 -d3s "http://$addr/" >"$tmp/wrk.out" 2>&1 || {
      cat "$tmp/wrk.out"
      fail "wrk failed"
    }
    cat "$tmp/wrk.out"
    ! grep -q "Socket errors" "$tmp/wrk.out" || fail "wrk saw socket errors"
    ! grep -q "Non-2xx or 3xx responses" "$tmp/wrk.out" || fail "wrk saw error responses"
    requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p' "$tmp/wrk.out")
    [ "${requests:-0}" -gt 0 ] || fail "wrk completed no requests"

    step "404, 400, pipelining, split requests, HTTP/1.0, oversized head"
    resp=$(exchange 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    [[ "$resp" == "HTTP/1.1 404 Not Found"* ]] || fail "GET /nope: '$resp'"
    resp=$(exchange 'NOT AN HTTP REQUEST\r\n\r\n')
    [[ "$resp" == "HTTP/1.1 400 Bad Request"* ]] || fail "malformed request line: '$resp'"
    resp=$(exchange 'GET / HTTP/1.1\r\nBad Header\r\n\r\n')
    [[ "$resp" == "HTTP/1.1 400 Bad Request"* ]] || fail "malformed header: '$resp'"
    resp=$(exchange 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    [ "$(grep -o 'HTTP/1.1 [0-9]*' <<<"$resp" | tr '\n' ' ')" = "HTTP/1.1 200 HTTP/1.1 200 HTTP/1.1 404 " ] ||
      fail "pipelined requests: '$resp'"
    resp=$(exchange 'GET / HTTP/1.0\r\n\r\n')  # HTTP/1.0: closed after the answer
    [[ "$resp" == "HTTP/1.1 200 OK"*"Connection: close"*hello ]] || fail "HTTP/1.0: '$resp'"
    big=$(head -c 9000 /dev/zero | tr '\0' a)
    resp=$(exchange "GET / HTTP/1.1\r\nX-Big: $big\r\n\r\n")
    [[ "$resp" == "HTTP/1.1 400 Bad Request"* ]] || fail "9000-byte header: '${resp:0:200}'"
    # One request in two writes, 100 ms apart, so that the server reads it in two pieces.
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET / HT' >&"$fd"
    sleep 0.1
    printf 'TP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$fd"
    resp=$(timeout 5 cat <&"$fd" || true)
    exec {fd}>&-
    [[ "$resp" == "HTTP/1.1 200 OK"*hello ]] || fail "split request: '$resp'"
    garbage
    resp=$(exchange 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n')
    [[ "$resp" == "HTTP/1.1 200 OK"* ]] || fail "GET / after garbage: '$resp'"
    ;;

  kv)
    cli() { timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
    step "redis-cli: SET, GET, PING, an unknown command"
    [ "$(cli SET greeting hello)" = OK ] || fail "SET"
    [ "$(cli GET greeting)" = hello ] || fail "GET"
    [ "$(cli PING)" = PONG ] || fail "PING"
    out=$(cli NOSUCHCOMMAND 2>&1 || true)
    [[ "$out" == *"ERR unknown command"* ]] || fail "unknown command: '$out'"
    out=$(cli GET 2>&1 || true)
    [[ "$out" == *"ERR wrong number of arguments"* ]] || fail "GET without a key: '$out'"
    cli SET notanumber abc >/dev/null
    out=$(cli INCR notanumber 2>&1 || true)
    [[ "$out" == *"ERR value is not an integer or out of range"* ]] || fail "INCR abc: '$out'"

    step "50 redis-cli processes x 20 INCR counter"
    pids=()
    for _ in $(seq 50); do
      timeout 60 redis-cli -h 127.0.0.1 -p "$port" -r 20 INCR counter >/dev/null &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "a redis-cli INCR process failed"; done
    [ "$(cli GET counter)" = 1000 ] || fail "counter is '$(cli GET counter)', not 1000"

    for pipeline in 1 16; do
      step "redis-benchmark -q -t set,get -n 20000 -c 50 -P $pipeline"
      timeout 60 redis-benchmark -h 127.0.0.1 -p "$port" -q -t set,get -n 20000 -c 50 \
        -P "$pipeline" >"$tmp/bench.out" 2>&1 || {
        cat "$tmp/bench.out"
        fail "redis-benchmark failed"
      }
      tr '\r' '\n' <"$tmp/bench.out" | grep "requests per second" || true
      ! grep -qi "error" "$tmp/bench.out" || { cat "$tmp/bench.out"; fail "redis-benchmark saw errors"; }
      [ "$(tr '\r' '\n' <"$tmp/bench.out" | grep -c 'requests per second')" -ge 2 ] ||
        { cat "$tmp/bench.out"; fail "redis-benchmark printed no result"; }
    done

    step "malformed frames"
    # shellcheck disable=SC2016 # the $ are RESP, not shell
    for frame in '*x\r\n' '*1\r\n$999999999999\r\n' '*1\r\n$3\r\nfooXX' '*1\r\n:3\r\nfoo\r\n'; do
      resp=$(exchange "$frame")
      [[ "$resp" == "-ERR Protocol error"* ]] || fail "frame '$frame': '$resp'"
    done
    resp=$(exchange 'PING\r\nQUIT\r\n')  # an inline command
    [ "$resp" = $'+PONG\r\n+OK\r' ] || fail "inline PING: '$resp'"
    garbage
    [ "$(cli PING)" = PONG ] || fail "PING after garbage"
    ;;
esac

# ---- Graceful shutdown ----
step "SIGTERM"
alive "before SIGTERM"
t0=$(ms)
kill -TERM "$pid"
if timeout 5 tail --pid="$pid" -s 0.02 -f /dev/null; then
  status=0
  wait "$pid" || status=$?
  pid=
  [ "$status" -eq 0 ] || fail "$server exited with status $status after SIGTERM"
  echo "$server exited with status 0, $(($(ms) - t0)) ms after SIGTERM"
else
  fail "$server still running 5 s after SIGTERM"
fi
if grep -qE "Sanitizer|runtime error|fatal" "$tmp/server.err"; then fail "$server reported errors"; fi
echo "net_check $mode: ok ($(($(ms) - t_start)) ms)"
