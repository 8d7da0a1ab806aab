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
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

benches=()
smoke=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=(--smoke) ;;
    nat|lb-cost|maglev) benches+=("$1") ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-natlb-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#benches[@]} -gt 0 ] || benches=(nat lb-cost maglev)

if [ "$(id -u)" -ne 0 ]; then
  echo "run-natlb-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"

for b in "${benches[@]}"; do
  case "$b" in
    nat) main=io.jvisor.bench.NatThroughputBench ;;
    lb-cost) main=io.jvisor.bench.LbCostBench ;;
    maglev)
      jmh=(-f 1 -wi 3 -i 5)
      [ ${#smoke[@]} -eq 0 ] || jmh=(-f 1 -wi 1 -i 1 -w 1 -r 1 -p backends=1000 -p weights=equal)
      echo "== maglev: JMH MaglevBench ${jmh[*]} ${extra[*]}" >&2
      "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar "$run_dir/benchmarks.jar" MaglevBench \
        "${jmh[@]}" "${extra[@]}"
      continue ;;
  esac
  echo "== $b: $main ${smoke[*]} ${extra[*]}" >&2
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -cp "$run_dir/benchmarks.jar" "$main" "${smoke[@]}" "${extra[@]}"
done
