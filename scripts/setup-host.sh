#!/usr/bin/env bash
# Idempotent host set-up for jvisor (Debian/Ubuntu).
#   - installs the Debian packages jvisor needs, only those that are missing;
#   - mounts bpffs at /sys/fs/bpf and tracefs at /sys/kernel/tracing.
# As root it does the work; otherwise it prints the commands to run and exits
# non-zero if something required is missing. Prints nothing when there is
# nothing to do and -q/--quiet is given.
set -euo pipefail

quiet=0
case "${1:-}" in -q | --quiet) quiet=1 ;; esac

# Required packages.
packages=(
  clang llvm            # compile C data planes to BPF objects (llvm-strip, llvm-objdump)
  libbpf-dev            # bpf_helpers.h and friends (headers only; no libbpf at run time)
  libelf-dev linux-libc-dev gcc make
  iproute2 ethtool iperf3 iputils-ping tcpdump curl   # lab, tests, benchmarks; curl for the README tour
  python3 util-linux    # raw-frame test tools (bridge VLAN trunk test); nsenter for Netns.exec
  iptables nftables     # benchmark peers: firewall (iptables, nftables), NAT (nftables masquerade)
)
# Installed when this distribution has them; skipped with a note otherwise.
# llvm-19/clang-19: the asm golden tests compare with llvm-objdump 19 and compile for -mcpu=v4.
optional=(bpftool llvm-19 clang-19)

say() { printf 'jvisor setup: %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
has_candidate() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [ -n "$c" ] && [ "$c" != "(none)" ]
}
have_apt_lists() { compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
mounted() { awk -v p="$1" -v t="$2" '$2 == p && $3 == t {f = 1} END {exit !f}' /proc/self/mounts; }

command -v dpkg-query >/dev/null || { say "not a Debian-based system; install the equivalents of: ${packages[*]} ${optional[*]}"; exit 1; }

missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
missing_opt=()
for p in "${optional[@]}"; do
  installed "$p" && continue
  # Known not to exist here (fresh package lists say so): skip without an apt-get update.
  if have_apt_lists && ! has_candidate "$p"; then
    [ "$quiet" = 1 ] || say "note: package $p is not available in this distribution; skipped"
    continue
  fi
  missing_opt+=("$p")
done

need_bpffs=0 need_tracefs=0
mounted /sys/fs/bpf bpf || need_bpffs=1
mounted /sys/kernel/tracing tracefs || need_tracefs=1

if ! is_root; then
  todo=()
  if [ ${#missing[@]} -gt 0 ] || [ ${#missing_opt[@]} -gt 0 ]; then
    todo+=("sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]} ${missing_opt[*]}")
  fi
  [ "$need_bpffs" = 0 ] || todo+=("sudo mount -t bpf bpf /sys/fs/bpf")
  # tracefs is only needed for tracepoint programs: suggest it, but do not fail.
  if [ ${#todo[@]} -eq 0 ]; then
    [ "$need_tracefs" = 0 ] || [ "$quiet" = 1 ] || say "optional: sudo mount -t tracefs tracefs /sys/kernel/tracing"
    [ "$quiet" = 1 ] || say "host ready"
    exit 0
  fi
  [ "$need_tracefs" = 0 ] || todo+=("sudo mount -t tracefs tracefs /sys/kernel/tracing   # optional")
  say "not root, and the host is not ready. Run (or rerun this as root):"
  printf '  %s\n' "${todo[@]}" >&2
  exit 1
fi

if [ ${#missing[@]} -gt 0 ] || [ ${#missing_opt[@]} -gt 0 ]; then
  say "apt-get update"
  apt-get update -qq >/dev/null
  install=("${missing[@]}")
  for p in "${missing_opt[@]}"; do
    if has_candidate "$p"; then install+=("$p"); else say "note: package $p is not available in this distribution; skipped"; fi
  done
  if [ ${#install[@]} -gt 0 ]; then
    say "apt-get install ${install[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${install[@]}" >/dev/null
  fi
fi

if [ "$need_bpffs" = 1 ]; then
  mkdir -p /sys/fs/bpf 2>/dev/null || :
  mount -t bpf bpf /sys/fs/bpf
  say "mounted bpffs at /sys/fs/bpf"
fi
if [ "$need_tracefs" = 1 ]; then
  if mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; then
    say "mounted tracefs at /sys/kernel/tracing"
  else
    say "note: could not mount tracefs at /sys/kernel/tracing (tracepoint programs will not attach)"
  fi
fi

[ "$quiet" = 1 ] || say "host ready"
