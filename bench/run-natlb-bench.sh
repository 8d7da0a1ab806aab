#!/usr/bin/env bash
# The nat and lb modules' performance figures, each next to its peer in the same run; see
# docs/benchmarks.md ("NAT and load balancer").
#
#   sudo bench/run-natlb-bench.sh               # all three: nat, lb-cost, maglev (about 3 minutes plus the build)
#   sudo bench/run-natlb-bench.sh --smoke       # harness check, about 1 minute; figures meaningless
#   sudo bench/run-natlb-bench.sh nat           # one of them: nat | lb-cost | maglev
#   sudo bench/run-natlb-bench.sh lb-cost -- --rounds 301 --repeat 200000   # arguments for the chosen mains
#
#   nat      io.jvisor.bench.NatThroughputBench  iperf3 TCP through the router + nat modules (masquerade)
#                                                against ip_forward + nftables masquerade in a namespace
#   lb-cost  io.jvisor.bench.LbCostBench         per-packet cost (BPF_PROG_TEST_RUN) of the lb module's DNAT
#                                                of an established flow against a minimal hand-written C DNAT
#   maglev   io.jvisor.bench.MaglevBench (JMH)   Maglev table build time, 100 and 1,000 backends, 65,537 slots
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs from a private copy of
# bench/target/benchmarks.jar. Needs root, clang, iperf3 and nft (./mvnw runs scripts/setup-host.sh,
# which installs them). Everything a run creates (namespaces, veths, engines, pins) is removed when it
# ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_parse_args "nat lb-cost maglev" "nat lb-cost maglev" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_build

# MaglevBench is a JMH benchmark: the jar's own main runs it
maglev() {
  local jmh=(-f 1 -wi 3 -i 5)
  [ ${#smoke[@]} -eq 0 ] || jmh=(-f 1 -wi 1 -i 1 -w 1 -r 1 -p backends=1000 -p weights=equal)
  echo "== maglev: JMH MaglevBench ${jmh[*]} ${extra[*]}" >&2
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$bench_jar" MaglevBench "${jmh[@]}" "${extra[@]}"
}
bench_main_each nat=io.jvisor.bench.NatThroughputBench lb-cost=io.jvisor.bench.LbCostBench maglev=maglev
