#!/usr/bin/env python3
"""goro's benchmark harness (run it through bench/run; see bench/README.md).

Builds the goro and Boost.Fiber programs (CMake) and the Go ones (go build), then for each worker
count and workload runs the implementations alternately (goro, Go, Boost.Fiber, goro, ...),
checks every checksum against the expected value, and reports the medians of the in-program time,
the whole-process wall time and the peak RSS (VmHWM, reported by each program: a child's
ru_maxrss would start from this script's own RSS), with goro/Go and goro/Boost.Fiber ratios: as a
table, as JSON and as a PNG chart (gnuplot). --check runs each program once at a small size and
only verifies the checksums (for CI). Python standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
IMPLS = ["goro", "go", "boost"]
PEERS = ["go", "boost"]
LABEL = {"goro": "goro", "go": "Go", "boost": "Boost.Fiber"}


def mix(x):
    """splitmix64's finalizer, as in bench/common.hpp."""
    m = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def sum_first_primes(n):
    limit = 64
    while True:  # sieve of Eratosthenes, doubling the limit until it holds n primes
        flags = bytearray([1]) * (limit + 1)
        flags[:2] = b"\0\0"
        for i in range(2, int(limit ** 0.5) + 1):
            if flags[i]:
                flags[i * i::i] = bytes(len(range(i * i, limit + 1, i)))
        primes = [i for i, f in enumerate(flags) if f]
        if len(primes) >= n:
            return sum(primes[:n])
        limit *= 2


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


# name: (full size, --check size, expected checksum for size n)
WORKLOADS = {
    "skynet": (1_000_000, 10_000, lambda n: n * (n - 1) // 2),
    "spawn_join": (1_000_000, 10_000, lambda n: n * (n + 1) // 2),
    "pingpong": (1_000_000, 10_000, lambda n: n * (n + 1) // 2),
    "mpmc": (10_000_000, 100_000, lambda n: n * (n - 1) // 2),
    "select_fanin": (2_000_000, 20_000, lambda n: n * (n - 1) // 2),
    "mutex": (10_000, 10, lambda n: n * 1000),
    "timers": (100_000, 1_000, lambda n: sum(1 + mix(i) % 20 for i in range(n))),
    "memory": (1_000_000, 10_000, lambda n: n * (n + 1) // 2),
    "sieve": (5_000, 200, sum_first_primes),
    "fib_spawn": (27, 15, fib),
    "errgroup": (1_000_000, 1_000, lambda n: n * (n + 1) // 2),
}


def log(msg):
    print(msg, flush=True)


def hardware_threads():
    return len(os.sched_getaffinity(0))


def parse_args():
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true",
                   help="CI mode: each program once at a small size; verify checksums only")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated workloads (default: all)")
    p.add_argument("--impls", default=",".join(IMPLS), help="comma-separated, of goro,go,boost")
    p.add_argument("--runs", type=int, default=5, help="runs per implementation (default 5)")
    p.add_argument("--workers", help="comma-separated worker counts (default: hardware threads,1)")
    p.add_argument("--size", action="append", default=[], metavar="WORKLOAD=N",
                   help="override a workload's size (repeatable)")
    p.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json",
                   help="results file (default bench/results/latest.json)")
    p.add_argument("--png", type=Path, help="chart (default: the JSON path with .png)")
    p.add_argument("--micro", action="store_true",
                   help="also run the Google Benchmark micro-benchmarks (results in the JSON)")
    p.add_argument("--net", action="store_true",
                   help="then run the network benchmarks, bench/net/run (with --check, its"
                   " check); bench/results/net.json")
    p.add_argument("--build-dir", type=Path, default=ROOT / "build-bench")
    p.add_argument("--jobs", type=int, default=hardware_threads(), help="build parallelism")
    p.add_argument("--no-build", action="store_true", help="use the programs already built")
    p.add_argument("--timeout", type=float, help="seconds per run (default 600; --check: 60)")
    a = p.parse_args()
    a.workloads = a.workloads.split(",")
    a.impls = a.impls.split(",")
    bad = [w for w in a.workloads if w not in WORKLOADS] + [i for i in a.impls if i not in IMPLS]
    if bad:
        p.error("unknown workload or implementation: " + ", ".join(bad))
    if a.runs < 1:
        p.error("--runs must be at least 1")
    hw = hardware_threads()
    a.workers = a.workers.split(",") if a.workers else [hw, 1] if hw > 1 else [1]
    if not all(str(w).isdigit() and int(w) > 0 for w in a.workers):
        p.error("--workers wants positive integers")
    a.workers = [int(w) for w in a.workers]
    a.sizes = {w: WORKLOADS[w][1 if a.check else 0] for w in WORKLOADS}
    for s in a.size:
        name, _, n = s.partition("=")
        if name not in WORKLOADS or not n.isdigit() or int(n) < 1:
            p.error(f"bad --size {s!r}: want WORKLOAD=N")
        a.sizes[name] = int(n)
    if a.check:
        a.runs = 1
    a.timeout = a.timeout or (60 if a.check else 600)
    a.png = a.png or a.json.with_suffix(".png")
    return a


def build(a):
    d = a.build_dir
    log(f"== building in {d} (CMake Release, -j{a.jobs}) and Go programs")
    subprocess.run(["cmake", "-S", ROOT, "-B", d, "-DCMAKE_BUILD_TYPE=Release",
                    "-DGORO_BUILD_BENCH=ON", "-DGORO_BUILD_TESTS=OFF",
                    "-DGORO_BUILD_EXAMPLES=OFF"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", d, f"-j{a.jobs}"], check=True)
    env = dict(os.environ, GOPROXY="off", GOFLAGS="")
    env.setdefault("GOCACHE", str(d / "go-cache"))
    subprocess.run(["go", "build", "-o", str(d / "bench" / "go") + "/", "./..."],
                   cwd=BENCH / "go", env=env, check=True)


def binary(a, impl, workload):
    return a.build_dir / "bench" / impl / workload


def run_once(cmd, timeout):
    """Runs cmd; returns (exit status, output, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out = p.communicate()[0] + f"\n(killed after {timeout:g} s)"
    return p.returncode, out, time.perf_counter() - t0


def parse_output(out):
    """The RESULT line's fields (numbers as float or int) and the NOTE lines."""
    result, notes = None, []
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = {}
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                try:
                    result[k] = int(v)
                except ValueError:
                    try:
                        result[k] = float(v)
                    except ValueError:
                        result[k] = v
        elif line.startswith("NOTE "):
            notes.append(re.sub(r"^NOTE impl=\S+ ", "", line))
    return result, notes


FIXED_KEYS = {"workload", "impl", "workers", "n", "checksum", "ms", "peak_rss_kb"}


def measure(a, workers, workload, impls, failures):
    """Runs one workload, the implementations alternating run by run; returns its entry."""
    n = a.sizes[workload]
    expected = WORKLOADS[workload][2](n)
    recs = {i: {"runs": [], "notes": []} for i in impls}
    for _ in range(a.runs):
        for impl in impls:
            cmd = [str(binary(a, impl, workload)), "-w", str(workers), str(n)]
            rc, out, wall = run_once(cmd, a.timeout)
            result, notes = parse_output(out)
            for note in notes:
                if note not in recs[impl]["notes"]:
                    recs[impl]["notes"].append(note)
            what = f"{workload} {impl} workers={workers} n={n}"
            if rc != 0 or result is None:
                failures.append(f"{what}: exit status {rc}, output:\n{out.strip()}")
                continue
            if result.get("checksum") != expected:
                failures.append(f"{what}: checksum {result.get('checksum')}, expected {expected}")
                continue
            recs[impl]["runs"].append({
                "ms": result["ms"], "wall_ms": wall * 1e3, "peak_rss_kb": result["peak_rss_kb"],
                "extra": {k: v for k, v in result.items()
                          if k not in FIXED_KEYS and isinstance(v, (int, float))}})
    for rec in recs.values():
        runs = rec["runs"]
        if runs:
            rec["median"] = {k: statistics.median(r[k] for r in runs)
                             for k in ("ms", "wall_ms", "peak_rss_kb")}
            rec["median"]["extra"] = {k: statistics.median(r["extra"][k] for r in runs)
                                      for k in runs[0]["extra"]}
    return {"workload": workload, "workers": workers, "n": n, "expected_checksum": expected,
            "impls": recs}


def ratio(x, y):
    return x / y if x is not None and y else None


def add_ratios(entry):
    """goro/peer ratios of the medians (time, wall time, peak RSS, each extra metric)."""
    med = {i: r.get("median") for i, r in entry["impls"].items()}
    entry["ratios"] = {}
    g = med.get("goro")
    for peer in PEERS:
        p = med.get(peer)
        if not g or not p:
            continue
        entry["ratios"][f"goro/{peer}"] = {
            **{k: ratio(g[k], p[k]) for k in ("ms", "wall_ms", "peak_rss_kb")},
            **{k: ratio(g["extra"].get(k), p["extra"][k]) for k in p["extra"]}}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def print_table(entries, runs):
    head = ["workload", "n", "goro ms", "Go ms", "Boost ms", "goro/Go", "goro/Boost",
            "wall goro/Go", "wall goro/Boost",
            "RSS MB goro", "Go", "Boost", "goro/Go", "goro/Boost"]
    for workers in sorted({e["workers"] for e in entries}, reverse=True):
        log(f"\n== {workers} worker(s), medians of {runs} run(s); time is in-program, wall is the"
            " whole process, RSS the peak; ratio < 1: goro is faster / smaller")
        rows = [head]
        for e in (e for e in entries if e["workers"] == workers):
            med = {i: e["impls"].get(i, {}).get("median") or {} for i in IMPLS}
            mb = {i: med[i].get("peak_rss_kb") for i in IMPLS}
            r = {p: e["ratios"].get(f"goro/{p}", {}) for p in PEERS}
            rows.append([e["workload"], str(e["n"]),
                         *(fmt(med[i].get("ms"), ".1f") for i in IMPLS),
                         *(fmt(r[p].get("ms"), ".2f") for p in PEERS),
                         *(fmt(r[p].get("wall_ms"), ".2f") for p in PEERS),
                         *(fmt(mb[i] and mb[i] / 1024, ".1f") for i in IMPLS),
                         *(fmt(r[p].get("peak_rss_kb"), ".2f") for p in PEERS)])
        widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
        for row in rows:
            cells = (c.rjust(w + 2) for c, w in zip(row[1:], widths[1:]))
            log(row[0].ljust(widths[0]) + "".join(cells))
        for e in (e for e in entries if e["workers"] == workers):
            meds = {i: r["median"]["extra"] for i, r in e["impls"].items() if r.get("median")}
            for k in sorted({k for extra in meds.values() for k in extra}):
                vals = " ".join(f"{i}={fmt(extra.get(k), '.1f')}" for i, extra in meds.items())
                rats = " ".join(f"{name}={fmt(r.get(k), '.2f')}" for name, r in e["ratios"].items())
                log(f"  {e['workload']} {k}: {vals}  {rats}")


def print_notes(entries):
    """Each implementation's notes once, with the workloads they concern."""
    where = {}
    for e in entries:
        for impl, r in e["impls"].items():
            for note in r["notes"]:
                where.setdefault((impl, note), []).append(e["workload"])
    every = list(dict.fromkeys(e["workload"] for e in entries))
    for (impl, note), wls in where.items():
        wls = list(dict.fromkeys(wls))
        scope = "all workloads" if wls == every else ", ".join(wls)
        log(f"  note [{LABEL[impl]}, {scope}]: {note}")


def machine(a, load):
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
        except (OSError, IndexError):
            return None

    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem_kb = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines()
                  if l.startswith("MemTotal"))
    cache = a.build_dir / "CMakeCache.txt"
    cxx = next((l.split("=", 1)[1].strip() for l in cache.read_text().splitlines()
                if l.startswith("CMAKE_CXX_COMPILER:")), "c++") if cache.exists() else "c++"
    boost = re.search(r'BOOST_LIB_VERSION "([^"]+)"',
                      Path("/usr/include/boost/version.hpp").read_text())
    return {"cpu": cpu, "hardware_threads": hardware_threads(),
            "load_average_before_runs": load, "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME"),
            "cxx": first_line([cxx, "--version"]), "go": first_line(["go", "version"]),
            "boost": boost.group(1).replace("_", ".") if boost else None}


def run_micro(a, check):
    exe = a.build_dir / "bench" / "micro"
    out = a.build_dir / "micro.json"
    cmd = [str(exe), f"--benchmark_out={out}", "--benchmark_out_format=json"]
    if check:
        cmd.append("--benchmark_min_time=0.01")
    log("\n== micro-benchmarks (Google Benchmark)")
    if not check:
        rc = subprocess.run(cmd).returncode
        return rc, json.loads(out.read_text()) if rc == 0 else None
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        log(p.stdout + p.stderr)
    return p.returncode, None


def chart(data, png):
    """Grouped bars of the goro/peer ratios (time, peak RSS) per workload, log scale."""
    entries = data["results"]
    workloads = list(dict.fromkeys(e["workload"] for e in entries))
    series = [(w, p) for w in data["workers"] for p in PEERS]

    def table(key):
        lines = []
        for wl in workloads:
            cells = []
            for w, p in series:
                e = next((e for e in entries if e["workload"] == wl and e["workers"] == w), None)
                v = e and e["ratios"].get(f"goro/{p}", {}).get(key)
                cells.append(f"{v:.4f}" if v else "?")
            lines.append(f"{wl} " + " ".join(cells))
        return "\n".join(lines)

    plots = ", ".join(f"$D using {k + 2}{':xtic(1)' if k == 0 else ''} title 'goro/{LABEL[p]}, "
                      f"{w} worker{'s' if w > 1 else ''}'" for k, (w, p) in enumerate(series))
    m = data["machine"]
    title = (f"goro vs Go and Boost.Fiber, medians of {data['runs']} runs; {data['date']};"
             f" {m['cpu']}, {m['hardware_threads']} threads")
    script = f"""
set terminal pngcairo size 1200,900 noenhanced font ',10'
set output '{png}'
set datafile missing '?'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 10
set format y '%g'
set mytics 10
set grid ytics mytics
set xtics rotate by -25
set key top left
set ylabel 'goro / peer (below 1: goro better)'
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linewidth 2 front
set multiplot layout 2,1 title '{title}'
$D << EOD
{table("ms")}
EOD
set title 'time (in-program)'
plot {plots}
$D << EOD
{table("peak_rss_kb")}
EOD
set title 'peak resident memory'
plot {plots}
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    a = parse_args()
    if not a.no_build:
        build(a)
    failures, entries = [], []
    started, load = datetime.datetime.now().astimezone(), os.getloadavg()
    for workers in a.workers:
        for workload in a.workloads:
            impls = [i for i in a.impls if binary(a, i, workload).exists()]
            missing = [i for i in a.impls if i not in impls]
            if missing:
                log(f"-- {workload}: not built for {', '.join(missing)}; skipped")
            if not impls:
                continue
            log(f"-- {workload}: workers={workers} n={a.sizes[workload]} runs={a.runs}"
                f" ({', '.join(impls)})")
            e = measure(a, workers, workload, impls, failures)
            add_ratios(e)
            entries.append(e)
            if a.check:
                ok = all(len(r["runs"]) == 1 for r in e["impls"].values())
                log(f"   {'ok' if ok else 'FAILED'}: checksum {e['expected_checksum']}"
                    + "".join(f", {i} {r['runs'][0]['ms']:.1f} ms" for i, r in e["impls"].items()
                              if r["runs"]))
    if a.check:
        rc, _ = run_micro(a, check=True)
        if rc != 0:
            failures.append(f"micro-benchmarks: exit status {rc}")
    else:
        print_table(entries, a.runs)
        print_notes(entries)
        data = {"date": started.isoformat(timespec="seconds"),
                "machine": machine(a, load), "runs": a.runs, "workers": a.workers,
                "sizes": {w: a.sizes[w] for w in a.workloads}, "results": entries,
                "failures": failures}
        if a.micro:
            rc, data["micro"] = run_micro(a, check=False)
            if rc != 0:
                failures.append(f"micro-benchmarks: exit status {rc}")
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(data, indent=1) + "\n")
        log(f"\nresults: {a.json}")
        if not any(e["ratios"] for e in entries):
            log("no goro/peer ratios: no chart")
        elif shutil.which("gnuplot"):
            a.png.parent.mkdir(parents=True, exist_ok=True)
            chart(data, a.png)
            log(f"chart:   {a.png}")
    if a.net:
        cmd = [sys.executable, BENCH / "net" / "run", "--build-dir", a.build_dir]
        cmd += ["--check"] * a.check + ["--no-build"] * a.no_build
        log(f"\n== network benchmarks: {' '.join(map(str, cmd[1:]))}")
        rc = subprocess.run(cmd).returncode
        if rc != 0:
            failures.append(f"network benchmarks (bench/net/run): exit status {rc}")
    for f in failures:
        log(f"FAILED: {f}")
    if failures:
        sys.exit(1)
    if a.check:
        log("check passed: every checksum matches")


if __name__ == "__main__":
    main()
