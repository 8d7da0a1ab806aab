#!/usr/bin/env bash
# The firewall module's figures, each next to its peer in the same run; see docs/benchmarks.md
# ("Firewall") and docs/firewall.md.
#
#   sudo bench/run-firewall-bench.sh                 # both: cost and e2e (about 4 minutes plus the build)
#   sudo bench/run-firewall-bench.sh --smoke         # harness check, about 1 minute; figures meaningless
#   sudo bench/run-firewall-bench.sh cost            # one of them: cost | e2e
#   sudo bench/run-firewall-bench.sh e2e -- --rules 1000 --rounds 3 --seconds 5   # arguments for the main
#
#   cost  per-packet cost via BPF_PROG_TEST_RUN of the firewall holding 10, 1,000 and 10,000 rules
#         per chain; the ratio to 10 rules
#   e2e   forwarding through a router namespace with the same rule set (default 10,000 rules) in
#         iptables (legacy), nftables, or the jvisor firewall on the wire, and with none: 64-byte UDP
#         frames received per second from the XDP generator and from iperf3, and iperf3 TCP
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs io.jvisor.bench.FirewallBench
# from a private copy of bench/target/benchmarks.jar. Needs root, clang, iperf3, ethtool, iptables
# and nftables (scripts/setup-host.sh installs them). Everything a run creates (namespaces, veths,
# engines, pins, the iptables and nftables rules inside the lab's namespaces) is removed when it
# ends, on failure too.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

args=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke|cost|e2e) args+=("$1") ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-firewall-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$(id -u)" -ne 0 ]; then
  echo "run-firewall-bench: BPF programs, namespaces and devices need root; rerun with sudo." >&2
  exit 1
fi
for tool in iptables-legacy-restore nft iperf3 ethtool; do
  command -v "$tool" >/dev/null || { echo "run-firewall-bench: $tool is missing; run scripts/setup-host.sh" >&2; exit 1; }
done

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"
echo "== io.jvisor.bench.FirewallBench ${args[*]} ${extra[*]}" >&2
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$run_dir/benchmarks.jar" io.jvisor.bench.FirewallBench "${args[@]}" "${extra[@]}"
