#!/usr/bin/env bash
# The ddos and capture modules' performance figures, each next to its peer in the same run; see
# docs/benchmarks.md ("ddos and capture").
#
#   sudo bench/run-ddoscap-bench.sh                  # both (about 3 minutes plus the build)
#   sudo bench/run-ddoscap-bench.sh --smoke          # harness check, about 30 s; figures meaningless
#   sudo bench/run-ddoscap-bench.sh ddos             # one of them: ddos | capture
#   sudo bench/run-ddoscap-bench.sh ddos -- --rounds 301 --repeat 500000 --prefixes 100000
#
#   ddos     io.jvisor.bench.DdosCostBench  per-packet cost at XDP via BPF_PROG_TEST_RUN: the ddos
#                                           module (pass, drop, rate-limited pass) against hand-written
#                                           C XDP LPM droppers (and a spin-locked token bucket)
#   capture  io.jvisor.bench.CaptureBench   a UDP flood captured to a pcap file by the capture module
#                                           and by tcpdump, same lab: frames written, lost, CPU/frame
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs the mains from a private copy
# of bench/target/benchmarks.jar. Needs root, clang and tcpdump. Everything a run creates
# (namespaces, veths, engines, pins, pcap files) is removed when it ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_parse_args "ddos capture" "ddos capture" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_require_tools tcpdump
bench_build

bench_java_opts=(-Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
bench_main_each ddos=io.jvisor.bench.DdosCostBench capture=io.jvisor.bench.CaptureBench
