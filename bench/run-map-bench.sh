#!/usr/bin/env bash
# Hash-map lookup/update from Java (jvisor, JMH) against the same loops in C
# (libbpf), in one run; see docs/benchmarks.md.
#
#   sudo bench/run-map-bench.sh            # the full comparison, about 3 minutes plus the build
#   sudo bench/run-map-bench.sh --smoke    # harness check, about 20 s; figures meaningless
#   sudo bench/run-map-bench.sh --rounds 9 --verbose
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs
# io.jvisor.bench.CompareMapOps, which compiles bench/src/main/c/map_ops.c with
# gcc -O2 -lbpf into bench/target/map-bench/, alternates the C loops with the
# JMH benchmarks and prints the tables. Needs root, gcc and libbpf-dev
# (./mvnw runs scripts/setup-host.sh, which installs them).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_require_root "creating BPF maps needs root"
bench_build

work=$bench_root/bench/target/map-bench
mkdir -p "$work"
bench_java_opts=(--sun-misc-unsafe-memory-access=allow)
bench_main io.jvisor.bench.CompareMapOps --work-dir "$work" "$@"
