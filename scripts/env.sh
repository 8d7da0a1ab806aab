# shellcheck shell=sh
# Sourced, never executed, by ./jvisor, .ci/run, scripts/*.sh and ./mvnw.
# Exports JAVA_HOME for a JDK >= 25 (jvisor needs the FFM API and
# java.lang.classfile): JAVA_HOME itself if it is new enough, else the newest
# /usr/lib/jvm/* with a java and javac of major >= 25. Puts $JAVA_HOME/bin
# first on PATH. Returns 1, with a message, if there is none.
# POSIX sh on purpose: ./mvnw runs under /bin/sh (dash). Safe under set -euf.

JVISOR_MIN_JAVA=${JVISOR_MIN_JAVA:-25}

# Prints the feature version (17, 25, ...) of the JDK at $1, or nothing.
jvisor_java_major() {
  _jv_v=
  if [ -r "$1/release" ]; then
    _jv_v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release" 2>/dev/null) || _jv_v=
  fi
  if [ -z "$_jv_v" ] && [ -x "$1/bin/java" ]; then
    _jv_v=$("$1/bin/java" -version 2>&1 | sed -n '1s/^[^"]*"\([^"]*\)".*/\1/p') || _jv_v=
  fi
  case "$_jv_v" in 1.*) _jv_v=${_jv_v#1.} ;; esac
  printf '%s\n' "${_jv_v%%[!0-9]*}"
}

# Succeeds if $1 is a JDK (java and javac) of major >= JVISOR_MIN_JAVA.
jvisor_is_jdk25() {
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  _jv_m=$(jvisor_java_major "$1")
  [ -n "$_jv_m" ] && [ "$_jv_m" -ge "$JVISOR_MIN_JAVA" ]
}

jvisor_find_jdk() {
  if jvisor_is_jdk25 "${JAVA_HOME:-}"; then
    printf '%s\n' "$JAVA_HOME"
    return 0
  fi
  _jv_best= _jv_best_m=0 _jv_opts=$-
  set +f  # mvnw runs with set -f; the glob below needs it off
  for _jv_d in /usr/lib/jvm/*; do
    jvisor_is_jdk25 "$_jv_d" || continue
    _jv_m=$(jvisor_java_major "$_jv_d")
    if [ "$_jv_m" -gt "$_jv_best_m" ]; then _jv_best=$_jv_d _jv_best_m=$_jv_m; fi
  done
  case $_jv_opts in *f*) set -f ;; esac
  [ -n "$_jv_best" ] || return 1
  printf '%s\n' "$_jv_best"
}

if _jv_home=$(jvisor_find_jdk); then
  JAVA_HOME=$_jv_home
  export JAVA_HOME
  case "$PATH" in "$JAVA_HOME/bin:"*) ;; *) PATH="$JAVA_HOME/bin:$PATH" ;; esac
  export PATH
  unset _jv_home _jv_v _jv_m _jv_best _jv_best_m _jv_opts _jv_d
else
  unset _jv_home _jv_v _jv_m _jv_best _jv_best_m _jv_opts _jv_d
  echo "jvisor: JDK $JVISOR_MIN_JAVA or newer is required, but JAVA_HOME (${JAVA_HOME:-unset}) is older and /usr/lib/jvm has none." >&2
  echo "jvisor: install one (e.g. Temurin 25) under /usr/lib/jvm, or set JAVA_HOME to it." >&2
  false
fi
