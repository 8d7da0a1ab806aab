#!/usr/bin/env bash
# The engine's performance figures, each next to its peer in the same run; see docs/benchmarks.md
# ("Engine").
#
#   sudo bench/run-engine-bench.sh                 # all three: cost, tcp, apply (about 6 minutes plus the build)
#   sudo bench/run-engine-bench.sh --smoke         # harness check, about 30 s; figures meaningless
#   sudo bench/run-engine-bench.sh cost            # one of them: cost | tcp | apply | bridge-router
#   sudo bench/run-engine-bench.sh bridge-router   # not in the default set; about 2 minutes
#   sudo bench/run-engine-bench.sh cost -- --rounds 301 --repeat 200000   # arguments for the chosen mains
#
#   cost   io.jvisor.bench.EngineCostBench     per-packet cost via BPF_PROG_TEST_RUN: the SDK forwarder
#                                              against a hand-written tc forwarder; chains of 1, 2, 4, 8
#   tcp    io.jvisor.bench.TcpThroughputBench  iperf3 TCP through a one-instance chain against the
#                                              Linux bridge (and a hand-written tc forwarder)
#   apply  io.jvisor.bench.ApplyTimeBench      Engine.apply of 100 instances and 400 connections from
#                                              nothing, against the same kernel work done by a bare loop
#   bridge-router  io.jvisor.bench.BridgeRouterBench  TCP through the bridge module against the Linux
#                                              bridge; TCP and small UDP through the router module
#                                              against Linux ip_forward in a namespace
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs the mains from a private
# copy of bench/target/benchmarks.jar, so that a rebuild during the run cannot change it. Needs
# root, clang and iperf3 (./mvnw runs scripts/setup-host.sh, which installs them). Everything a
# run creates (namespaces, veths, engines, pins) is removed when it ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_parse_args "cost tcp apply bridge-router" "cost tcp apply" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_build

bench_main_each cost=io.jvisor.bench.EngineCostBench tcp=io.jvisor.bench.TcpThroughputBench \
  apply=io.jvisor.bench.ApplyTimeBench bridge-router=io.jvisor.bench.BridgeRouterBench
