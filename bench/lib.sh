# shellcheck shell=bash
# What the bench/run-*.sh scripts share. A script sources it right after `set -euo pipefail`:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing changes to the repository root and sets JAVA_HOME (scripts/env.sh). Then:
#
#   bench_parse_args CHOICES DEFAULTS "$@"
#       parses the script's arguments into the arrays `benches` (the words of CHOICES given, else
#       DEFAULTS), `smoke` (--smoke), `generator` (`--generator live|af-packet|auto`, for a script
#       that set bench_takes_generator=1 first: its packet-rate mains take that option) and `extra`
#       (whatever follows --); -h/--help prints the script's header comment (from line 2 to the
#       first line that is not a comment) and exits; anything else is an error.
#   bench_require_root WHAT       exits unless root, saying "WHAT; rerun with sudo."
#   bench_require_tools TOOL...   exits unless every tool is on the PATH
#   bench_build                   builds jvisor-bench (and what it depends on) and copies
#                                 bench/target/benchmarks.jar to a private directory, removed on
#                                 exit, so that a rebuild during the run cannot change it: $bench_jar
#   bench_main MAIN ARGS...       runs a main class from $bench_jar (with the options in the array
#                                 `bench_java_opts`), after logging it to stderr
#   bench_main_each WORD=MAIN...  for each word in `benches`, in order, bench_main of its MAIN with
#                                 the `smoke`, `generator` and `extra` arguments (or, when MAIN is a
#                                 shell function of the script, that function)

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_script_file=${BASH_SOURCE[1]}
bench_script=$(basename "$bench_script_file" .sh)
bench_java_opts=()
cd "$bench_root"
. scripts/env.sh   # JAVA_HOME -> JDK 25+

bench_parse_args() {
  local choices=" $1 " defaults=$2
  shift 2
  benches=()
  smoke=()
  generator=()
  extra=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --smoke) smoke=(--smoke) ;;
      --generator)
        if [ -z "${bench_takes_generator:-}" ]; then
          echo "$bench_script: unknown argument '$1' (see --help)" >&2
          exit 2
        fi
        case "${2:-}" in
          live|af-packet|auto) generator=(--generator "$2"); shift ;;
          *) echo "$bench_script: --generator takes live, af-packet or auto, not '${2:-}'" >&2; exit 2 ;;
        esac ;;
      --) shift; extra=("$@"); break ;;
      -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$bench_script_file" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *)
        if [ -n "$1" ] && [[ "$choices" == *" $1 "* ]]; then
          benches+=("$1")
        else
          echo "$bench_script: unknown argument '$1' (see --help)" >&2
          exit 2
        fi ;;
    esac
    shift
  done
  [ ${#benches[@]} -gt 0 ] || read -r -a benches <<< "$defaults"
}

bench_require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$bench_script: $1; rerun with sudo." >&2
    exit 1
  fi
}

bench_require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$bench_script: $tool is missing; run scripts/setup-host.sh" >&2; exit 1; }
  done
}

bench_build() {
  echo "== building jvisor-bench: ./mvnw -B -q -DskipTests -pl bench -am package" >&2
  ./mvnw -B -q -DskipTests -pl bench -am package
  bench_run_dir=$(mktemp -d)
  trap 'rm -rf "$bench_run_dir"' EXIT
  cp bench/target/benchmarks.jar "$bench_run_dir/"
  bench_jar=$bench_run_dir/benchmarks.jar
}

bench_main() {
  local main=$1
  shift
  echo "== $main $*" >&2
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED "${bench_java_opts[@]}" -cp "$bench_jar" "$main" "$@"
}

bench_main_each() {
  local b pair
  for b in "${benches[@]}"; do
    for pair in "$@"; do
      if [ "${pair%%=*}" != "$b" ]; then
        continue
      elif declare -F "${pair#*=}" >/dev/null; then
        "${pair#*=}"
      else
        bench_main "${pair#*=}" "${smoke[@]}" "${generator[@]}" "${extra[@]}"
      fi
    done
  done
}
