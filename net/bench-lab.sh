#!/usr/bin/env bash
# Lab set-up time: jvisor's Lab.up (rtnetlink over FFM) against a shell script that builds the
# same topology with ip commands. Topology, N hosts (default 50) on one root bridge; per host:
# a namespace, a veth from the bridge into it (eth0), loopback up, one address, a default route,
# net.ipv4.ip_forward=1. Every name carries a random prefix and is removed at the end (trap).
# Run as root from the repository root:  bash net/bench-lab.sh [hosts] [rounds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh

hosts=${1:-50}
rounds=${2:-5}
net="10.$((RANDOM % 254 + 1)).$((RANDOM % 256))."
now() { date +%s%N; }

# --- the ip script ---------------------------------------------------------------------------
prefix=""
teardown() {
  [ -n "$prefix" ] || return 0
  ip link del "${prefix}br0" 2>/dev/null || :
  for i in $(seq 1 "$hosts"); do
    ip link del "${prefix}p$i" 2>/dev/null || :
    ip netns del "$prefix-h$i" 2>/dev/null || :
  done
  prefix=""
}
trap teardown EXIT

ip_setup() {
  ip link add "${prefix}br0" type bridge
  ip link set "${prefix}br0" up
  for i in $(seq 1 "$hosts"); do
    ns="$prefix-h$i"
    ip netns add "$ns"
    ip link add "${prefix}p$i" type veth peer name eth0 netns "$ns"
    ip link set "${prefix}p$i" master "${prefix}br0" up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    ip -n "$ns" addr add "$net$i/24" dev eth0
    ip -n "$ns" route add default via "${net}254"
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  done
}

ip_times=()
for round in $(seq 1 "$rounds"); do
  prefix=$(printf 'j%05x' $(( ((RANDOM << 15) | RANDOM) & 0xfffff )))
  t0=$(now); ip_setup; t1=$(now)
  teardown
  ms=$(( (t1 - t0) / 1000000 ))
  ip_times+=("$ms")
  echo "ip round $round: $hosts hosts up in $ms ms"
done
ip_median=$(printf '%s\n' "${ip_times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")
echo "ip summary: $hosts hosts, median $ip_median ms"

# --- jvisor ------------------------------------------------------------------------------------
cp_file=net/target/bench-classpath.txt
if [ ! -f "$cp_file" ] || [ net/pom.xml -nt "$cp_file" ]; then
  ./mvnw -B -q -f net/pom.xml dependency:build-classpath -Dmdep.outputFile="$(pwd)/$cp_file" -Dmdep.includeScope=test >/dev/null
fi
[ -d net/target/test-classes ] || ./mvnw -B -q -f net/pom.xml test-compile
cp="net/target/classes:net/target/test-classes:$(cat "$cp_file")"
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp" io.jvisor.net.lab.LabSetupBenchmark)
"${java[@]}" "$hosts" "$rounds"
# What a one-shot command pays: a fresh JVM that brings one lab up and down, then exits.
t0=$(now)
"${java[@]}" "$hosts" 1 >/dev/null
t1=$(now)
echo "java one-shot process (JVM start, $hosts hosts up and down, exit): $(( (t1 - t0) / 1000000 )) ms"
# The ip script's equivalent: set-up plus tear-down.
prefix=$(printf 'j%05x' $(( ((RANDOM << 15) | RANDOM) & 0xfffff )))
t0=$(now); ip_setup; teardown; t1=$(now)
echo "ip script, $hosts hosts up and down: $(( (t1 - t0) / 1000000 )) ms"
