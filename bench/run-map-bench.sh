#!/usr/bin/env bash
# Hash-map lookup/update from Java (jvisor, JMH) against the same loops in C
# (libbpf), in one run; see docs/benchmarks.md.
#
#   sudo bench/run-map-bench.sh            # the full comparison, about 3 minutes plus the build
#   sudo bench/run-map-bench.sh --smoke    # harness check, about 20 s; figures meaningless
#   sudo bench/run-map-bench.sh --rounds 9 --verbose
#
# Builds jvisor-bench (and what it depends on) with ./mvnw, then runs
# io.jvisor.bench.CompareMapOps, which compiles bench/src/main/c/map_ops.c with
# gcc -O2 -lbpf into bench/target/map-bench/, alternates the C loops with the
# JMH benchmarks and prints the tables. Needs root, gcc and libbpf-dev
# (./mvnw runs scripts/setup-host.sh, which installs them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

if [ "$(id -u)" -ne 0 ]; then
  echo "run-map-bench: creating BPF maps needs root; rerun with sudo." >&2
  exit 1
fi

echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
./mvnw -B -q -DskipTests -pl bench -am package

# Run from a private copy of the jar, so that a rebuild during the run cannot change it.
work=$root/bench/target/map-bench
mkdir -p "$work"
run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
cp bench/target/benchmarks.jar "$run_dir/"

"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$run_dir/benchmarks.jar" io.jvisor.bench.CompareMapOps --work-dir "$work" "$@"
