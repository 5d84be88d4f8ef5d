#!/usr/bin/env python3
"""A/B of two builds of goro's benchmark programs: runs each workload's goro program from build A
and from build B alternately (A, B, B, A, ...), checks that both print the same checksum, and
prints the medians and B/A. bench/run compares implementations within one build; this compares
two versions of goro (e.g. before and after a change) in the same window of a noisy machine.

  bench/ab.py --a OLD_BUILD --b NEW_BUILD [--runs 6] [--workloads skynet,mpmc,...]

A build is a CMake build directory configured with -DGORO_BUILD_BENCH=ON (bench/run's
--build-dir, or a worktree's); the programs are <build>/bench/goro/<workload>.
"""
import argparse
import re
import statistics
import subprocess
import sys

WORKLOADS = "skynet,spawn_join,pingpong,mpmc,select_fanin,mutex,timers,sieve,fib_spawn,errgroup"


def run(build, workload):
    out = subprocess.run([f"{build}/bench/goro/{workload}"], capture_output=True, text=True,
                         timeout=600, check=True).stdout
    ms = re.search(r"ms=([0-9.]+)", out)
    checksum = re.search(r"checksum=(\S+)", out)
    if not ms or not checksum:
        sys.exit(f"ab.py: no result line from {build}/bench/goro/{workload}:\n{out}")
    return float(ms.group(1)), checksum.group(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", required=True, help="build directory A (before)")
    p.add_argument("--b", required=True, help="build directory B (after)")
    p.add_argument("--runs", type=int, default=6)
    p.add_argument("--workloads", default=WORKLOADS)
    args = p.parse_args()
    print(f"{'workload':13} {'A ms':>9} {'B ms':>9} {'B/A':>6}   runs A | runs B")
    for w in args.workloads.split(","):
        times = {"a": [], "b": []}
        sums = set()
        for r in range(args.runs):
            for side in ("a", "b") if r % 2 == 0 else ("b", "a"):
                ms, checksum = run(getattr(args, side), w)
                times[side].append(ms)
                sums.add(checksum)
        if len(sums) != 1:
            sys.exit(f"ab.py: {w}: the builds disagree on the checksum: {sorted(sums)}")
        a, b = statistics.median(times["a"]), statistics.median(times["b"])
        print(f"{w:13} {a:9.1f} {b:9.1f} {b / a:6.2f}   "
              f"{[round(x) for x in times['a']]} | {[round(x) for x in times['b']]}")


if __name__ == "__main__":
    main()
