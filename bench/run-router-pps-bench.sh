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
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) args+=(--smoke) ;;
    --) shift; args+=("$@"); break ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-router-pps-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run-router-pps-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"
echo "== io.jvisor.bench.RouterPpsBench ${args[*]}" >&2
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$run_dir/benchmarks.jar" io.jvisor.bench.RouterPpsBench "${args[@]}"
