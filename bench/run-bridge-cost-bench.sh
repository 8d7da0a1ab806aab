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
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) args+=(--smoke) ;;
    --) shift; args+=("$@"); break ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-bridge-cost-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run-bridge-cost-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"
echo "== io.jvisor.bench.BridgeCostBench ${args[*]}" >&2
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$run_dir/benchmarks.jar" io.jvisor.bench.BridgeCostBench "${args[@]}"
