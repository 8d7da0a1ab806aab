#!/usr/bin/env bash
# The router module's small-UDP packet rate (and one TCP stream) against Linux IP forwarding in a
# namespace, in one lab and one run; see docs/benchmarks.md ("Router packet rate").
#
#   sudo bench/run-router-pps-bench.sh                        # 15 rounds of about 2 s per path, about 3 minutes plus the build
#   sudo bench/run-router-pps-bench.sh --smoke                # harness check, about 15 s; figures meaningless
#   sudo bench/run-router-pps-bench.sh -- --rounds 21 --seconds 3 --no-tcp   # arguments for the main
#   sudo bench/run-router-pps-bench.sh -- --sender socket --senders 2        # Java packet-socket senders instead
#
# Main: io.jvisor.bench.RouterPpsBench ([--smoke] [--rounds N] [--seconds S] [--sender xdp|socket]
# [--senders N] [--no-tcp]).
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs the main from a private copy
# of bench/target/benchmarks.jar. Needs root, clang and iperf3. Everything a run creates (a lab of
# namespaces and veths, an engine and its pins, the receivers' drop programs) is removed when it
# ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_parse_args "" "" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_build
bench_main io.jvisor.bench.RouterPpsBench "${smoke[@]}" "${extra[@]}"
