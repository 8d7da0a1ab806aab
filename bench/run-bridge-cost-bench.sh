#!/usr/bin/env bash
# The bridge module's per-packet cost to a learned destination, next to a minimal hand-written C
# learning bridge in the same run (BPF_PROG_TEST_RUN, tc); see docs/benchmarks.md ("Bridge
# per-packet cost").
#
#   sudo bench/run-bridge-cost-bench.sh                       # 151 rounds of 100000 runs per subject, about 1 minute plus the build
#   sudo bench/run-bridge-cost-bench.sh --smoke               # harness check, a few seconds; figures meaningless
#   sudo bench/run-bridge-cost-bench.sh -- --rounds 301 --verbose   # arguments after -- go to the main
#
# Main: io.jvisor.bench.BridgeCostBench ([--smoke] [--rounds N] [--repeat N] [--verbose]). Builds
# jvisor-bench (and what it depends on) with ./mvnw, then runs the main from a private copy of
# bench/target/benchmarks.jar. Needs root and clang. Everything a run creates (a namespace, veths,
# an engine and its pins) is removed when it ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_parse_args "" "" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_build
bench_main io.jvisor.bench.BridgeCostBench "${smoke[@]}" "${extra[@]}"
