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
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

benches=()
smoke=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=(--smoke) ;;
    cost|tcp|apply|bridge-router) benches+=("$1") ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-engine-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#benches[@]} -gt 0 ] || benches=(cost tcp apply)

if [ "$(id -u)" -ne 0 ]; then
  echo "run-engine-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"

for b in "${benches[@]}"; do
  case "$b" in
    cost) main=io.jvisor.bench.EngineCostBench ;;
    tcp) main=io.jvisor.bench.TcpThroughputBench ;;
    apply) main=io.jvisor.bench.ApplyTimeBench ;;
    bridge-router) main=io.jvisor.bench.BridgeRouterBench ;;
  esac
  echo "== $b: $main ${smoke[*]} ${extra[*]}" >&2
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -cp "$run_dir/benchmarks.jar" "$main" "${smoke[@]}" "${extra[@]}"
done
