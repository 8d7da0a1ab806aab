#!/usr/bin/env bash
# The firewall module's figures, each next to its peer in the same run; see docs/benchmarks.md
# ("Firewall") and docs/firewall.md.
#
#   sudo bench/run-firewall-bench.sh                 # both: cost and e2e (about 4 minutes plus the build)
#   sudo bench/run-firewall-bench.sh --smoke         # harness check, about 1 minute; figures meaningless
#   sudo bench/run-firewall-bench.sh cost            # one of them: cost | e2e
#   sudo bench/run-firewall-bench.sh e2e --generator af-packet   # force e2e's traffic generator: live | af-packet | auto
#   sudo bench/run-firewall-bench.sh e2e -- --rules 1000 --rounds 3 --seconds 5   # arguments for the main
#
#   cost  per-packet cost via BPF_PROG_TEST_RUN of the firewall holding 10, 1,000 and 10,000 rules
#         per chain; the ratio to 10 rules
#   e2e   forwarding through a router namespace with the same rule set (default 10,000 rules) in
#         iptables (legacy), nftables, or the jvisor firewall on the wire, and with none: 64-byte UDP
#         frames received per second from the traffic generator and from iperf3, and iperf3 TCP.
#         The generator: `auto` (the default) runs the kernel's live-frames generator (XDP_TX through
#         BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) where the kernel allows it, else
#         packet-socket threads (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg; -- --senders N); the
#         output says which one ran and why
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs io.jvisor.bench.FirewallBench
# from a private copy of bench/target/benchmarks.jar. Needs root, clang, iperf3, ethtool, iptables
# and nftables (scripts/setup-host.sh installs them). Everything a run creates (namespaces, veths,
# engines, pins, the iptables and nftables rules inside the lab's namespaces) is removed when it
# ends, on failure too.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # cd to the repository root, JAVA_HOME, bench_* helpers

bench_takes_generator=1
bench_parse_args "cost e2e" "" "$@"
bench_require_root "BPF programs, namespaces and devices need root"
bench_require_tools iptables-legacy-restore nft iperf3 ethtool
bench_build
bench_main io.jvisor.bench.FirewallBench "${benches[@]}" "${smoke[@]}" "${generator[@]}" "${extra[@]}"
