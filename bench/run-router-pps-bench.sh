#!/usr/bin/env bash
# The router module's small-UDP packet rate (and one TCP stream) against Linux IP forwarding in a
# namespace, in one lab and one run; see docs/benchmarks.md ("Router packet rate").
#
#   sudo bench/run-router-pps-bench.sh                        # 15 rounds of about 2 s per path, about 3 minutes plus the build
#   sudo bench/run-router-pps-bench.sh --smoke                # harness check, about 15 s; figures meaningless
#   sudo bench/run-router-pps-bench.sh --generator af-packet  # force a traffic generator: live | af-packet | auto (default)
#   sudo bench/run-router-pps-bench.sh -- --rounds 21 --seconds 3 --no-tcp   # arguments for the main
#   sudo bench/run-router-pps-bench.sh -- --senders 4         # af-packet sender threads (default: one per CPU)
#
# The traffic generator: `auto` runs the kernel's live-frames generator (XDP_TX through
# BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) where the kernel allows it, else packet-socket
# threads (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg); the output says which one ran and why.
#
# Main: io.jvisor.bench.RouterPpsBench ([--smoke] [--rounds N] [--seconds S]
# [--generator live|af-packet|auto] [--senders N] [--no-tcp]).
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs the main from a private copy
# of bench/target/benchmarks.jar. Needs root, clang and iperf3. Everything a run creates (a lab of
# namespaces and veths, an engine and its pins, the receivers' drop programs) is removed when it
# ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_takes_generator=1
bench_parse_args "" "" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_build
bench_main io.jvisor.bench.RouterPpsBench "${smoke[@]}" "${generator[@]}" "${extra[@]}"
