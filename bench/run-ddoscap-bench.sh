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
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

benches=()
smoke=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=(--smoke) ;;
    ddos|capture) benches+=("$1") ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-ddoscap-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#benches[@]} -gt 0 ] || benches=(ddos capture)

if [ "$(id -u)" -ne 0 ]; then
  echo "run-ddoscap-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi
command -v tcpdump >/dev/null || { echo "run-ddoscap-bench: tcpdump is needed (apt-get install tcpdump)" >&2; exit 1; }

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"

for b in "${benches[@]}"; do
  case "$b" in
    ddos) main=io.jvisor.bench.DdosCostBench ;;
    capture) main=io.jvisor.bench.CaptureBench ;;
  esac
  echo "== $main ${smoke[*]} ${extra[*]}" >&2
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$run_dir/benchmarks.jar" "$main" "${smoke[@]}" "${extra[@]}"
done
