#!/usr/bin/env bash
# Runs the engine and module smoke tests on another kernel: Debian's own
# (linux-image-amd64, 6.1 on bookworm), booted under qemu-system-x86_64.
# On demand, not part of .ci/run: without KVM, qemu emulates the CPU (TCG) and
# a run takes tens of minutes. docs/kernels.md says how it works.
#
#   sudo scripts/kernel-matrix.sh [options]
#     --tests LIST       surefire -Dtest list (default: the data-plane smoke set below)
#     --kernel-package P the Debian package of the kernel (default linux-image-amd64)
#     --memory SIZE      guest RAM (default 4G)
#     --cpus N           guest CPUs (default 2)
#     --accel A          qemu's -accel (default tcg,thread=single: one host thread
#                        runs both vCPUs; with multi-threaded TCG, qemu 7.2, the
#                        guest's JVMs died of SIGSEGV in freshly JIT-compiled code
#                        when the host was busy), or kvm where /dev/kvm works (on
#                        this kind of machine it exists, but a guest hangs at boot)
#     --timeout MIN      stop the guest after MIN minutes (default 240)
#     --command CMD      run CMD (bash) in the guest instead of the tests
#
# Nothing is installed on the host but qemu-system-x86 (when missing). The
# kernel and busybox .debs are fetched with `apt-get download` into a cache
# ($XDG_CACHE_HOME/jvisor/kernel-matrix, else ~/.cache/...) and unpacked there
# with dpkg-deb -x. A small initramfs (busybox and the modules for virtio, 9p
# and overlayfs) mounts the host's root filesystem read-only over virtio-9p,
# puts a tmpfs overlay on top and switches into it, so the guest sees the
# host's JDK, clang, iproute2, ~/.m2 and this tree, and writes only to its
# own RAM. The tests run there with `./mvnw -o`; the reports come back through
# a second, writable 9p share: target/kernel-matrix/<time>/.
#
# Prints one line per test class and exits 0 only if every selected test
# passed (a skipped test counts as failed).
set -euo pipefail

# The data-plane smoke set: chaining, flooding, live swap, both attach paths,
# restart/adoption, XDP mode, and a topology of the standard modules.
DEFAULT_TESTS='ChainTest,FloodTest,LiveSwapTest,NetlinkAttachTest,RestartTest,XdpModeTest,PeerRedirectTest,TransparentInsertTest,BridgeRouterTopologyTest,BridgeTest,RouterTest,FirewallTest,NatTest,LbTest'
# Modules the tests reach through rtnetlink and tc on 6.1; loaded before the tests
# (request_module covers the rest through the modprobe set up in the guest).
GUEST_MODULES='veth bridge 8021q vxlan tun macvlan sch_ingress cls_bpf act_bpf nf_tables nf_conntrack nft_ct nft_nat nf_nat iptable_filter iptable_nat xt_string'

say() { printf 'kernel-matrix: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

# ---------------------------------------------------------------- guest side
# Runs as PID 1 inside the guest, after the initramfs switched to the overlay
# root. $1 is the output directory (the writable 9p share).
guest_main() {
  local out=$1
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
  # shellcheck disable=SC1091
  . "$out/guest.env"
  finish() {
    echo "$1" >"$out/guest-exit"
    sync
    echo "kernel-matrix guest: done (exit $1)"
    echo o >/proc/sysrq-trigger   # power off; qemu exits
    sleep 60
  }
  trap 'finish 99' ERR
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  mount -t tmpfs tmpfs /dev/shm
  mount -t tmpfs -o mode=0755 tmpfs /run
  mount -t tmpfs -o mode=1777 tmpfs /tmp
  mount -t bpf bpf /sys/fs/bpf
  mount -t tracefs tracefs /sys/kernel/tracing
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || true
  trap - ERR

  # The guest kernel's modules, from the unpacked .deb in the cache; busybox's
  # modprobe (the host may have no kmod) both for us and for request_module.
  local kver
  kver=$(uname -r)
  mkdir -p /lib/modules /run/kernel-matrix/bin
  rm -rf "/lib/modules/$kver"
  ln -s "$KM_MODULES" "/lib/modules/$kver"
  ln -s "$KM_BUSYBOX" /run/kernel-matrix/bin/modprobe
  echo /run/kernel-matrix/bin/modprobe >/proc/sys/kernel/modprobe
  local m failed=()
  for m in $GUEST_MODULES; do
    /run/kernel-matrix/bin/modprobe "$m" 2>/dev/null || failed+=("$m")
  done
  [ ${#failed[@]} -eq 0 ] || echo "kernel-matrix guest: modules not loaded: ${failed[*]}"
  # The host's socket buffer limits (the tests ask for 4 MB receive buffers; the
  # kernel caps them at rmem_max) and open-file limit, so that the guest differs
  # from the host in its kernel, not in its tuning.
  local kv
  for kv in $KM_SYSCTLS; do
    echo "${kv#*=}" >"/proc/sys/$(echo "${kv%%=*}" | tr . /)"
  done
  ulimit -n "$KM_NOFILE"
  ip link set lo up
  hostname kernel-matrix 2>/dev/null || true

  echo "kernel-matrix guest: kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
  cd "$KM_REPO"
  local rc=0
  if [ -n "${KM_COMMAND:-}" ]; then
    bash -c "$KM_COMMAND" || rc=$?
  else
    # shellcheck disable=SC1091
    . scripts/env.sh
    export CI=true
    echo "kernel-matrix guest: $(java -version 2>&1 | head -n 1)"
    # The host's reports are in the tree too: only this run's may count.
    rm -rf engine/target/surefire-reports modules/target/surefire-reports
    # Failed tests do not stop the build: modules still runs after a red engine test.
    ./mvnw -o -B -pl engine,modules -am test -Dmaven.test.failure.ignore=true \
      -Dtest="$KM_TESTS" -Dsurefire.failIfNoSpecifiedTests=false || rc=$?
    mkdir -p "$out/reports"
    local d
    for d in engine/target/surefire-reports modules/target/surefire-reports; do
      [ -d "$d" ] && cp "$d"/TEST-*.xml "$d"/*.txt "$out/reports/" 2>/dev/null || true
    done
    # JVM crash reports, if any (see --accel)
    find . -maxdepth 3 -name 'hs_err_pid*.log' -exec cp {} "$out/" \; 2>/dev/null || true
  fi
  finish "$rc"
}

if [ "${1:-}" = --guest ]; then
  guest_main "$2"
  exit 0
fi

# ----------------------------------------------------------------- host side
tests=$DEFAULT_TESTS kpkg=linux-image-amd64 memory=4G cpus=2 accel=tcg,thread=single timeout_min=240 command=
while [ $# -gt 0 ]; do
  case $1 in
    --tests) tests=$2; shift 2 ;;
    --kernel-package) kpkg=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --timeout) timeout_min=$2; shift 2 ;;
    --command) command=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root: the 9p share exports the host's root filesystem (read-only) as root sees it"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

command -v qemu-system-x86_64 >/dev/null || {
  say "installing qemu-system-x86"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
}
for t in apt-get apt-cache dpkg-deb gzip; do command -v "$t" >/dev/null || die "$t is missing"; done

cache=${JVISOR_KERNEL_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jvisor/kernel-matrix}
# The guest mounts its own /tmp, /run, /dev, /proc and /sys over the host's.
for p in "$repo" "$cache"; do
  case $p/ in
    /tmp/* | /run/* | /dev/* | /proc/* | /sys/*) die "$p is under a directory the guest mounts its own over; move it (or set JVISOR_KERNEL_MATRIX_CACHE)" ;;
  esac
done
run=$repo/target/kernel-matrix/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$cache/debs" "$run"
log=$run/kernel-matrix.log
exec > >(tee -a "$log") 2>&1
started=$(date +%s)

work= qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    say "stopping qemu (pid $qemu_pid)"
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
work=$(mktemp -d /tmp/jvisor-kernel-matrix.XXXXXX)

# A package's .deb in the cache, fetched with apt-get download (never installed).
fetch_deb() {
  local pkg=$1 f
  f=$(compgen -G "$cache/debs/${pkg}_*.deb" | head -n 1 || true)
  if [ -z "$f" ]; then
    say "apt-get download $pkg"
    (cd "$cache/debs" && apt-get -o APT::Sandbox::User=root download -qq "$pkg" >/dev/null 2>&1) || {
      apt-get update -qq >/dev/null
      (cd "$cache/debs" && apt-get -o APT::Sandbox::User=root download -qq "$pkg" >/dev/null)
    }
    f=$(compgen -G "$cache/debs/${pkg}_*.deb" | head -n 1) || die "apt-get download $pkg left no .deb"
  fi
  printf '%s\n' "$f"
}
# Unpacks a .deb into the cache once; prints the directory.
unpack_deb() {
  local d
  d=$cache/root/$(basename "$1" .deb)
  if [ ! -e "$d/.unpacked" ]; then
    rm -rf "$d" && mkdir -p "$d"
    dpkg-deb -x "$1" "$d"
    touch "$d/.unpacked"
  fi
  printf '%s\n' "$d"
}

# linux-image-amd64 is a metapackage: its Depends names the versioned image.
kimage=$kpkg
if [[ $kpkg != linux-image-[0-9]* ]]; then
  kimage=$(apt-cache depends "$kpkg" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  if [ -z "$kimage" ]; then
    apt-get update -qq >/dev/null
    kimage=$(apt-cache depends "$kpkg" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  fi
  [ -n "$kimage" ] || die "cannot resolve $kpkg to a linux-image-<version> package"
fi
kroot=$(unpack_deb "$(fetch_deb "$kimage")")
bbroot=$(unpack_deb "$(fetch_deb busybox-static)")
busybox=$bbroot/bin/busybox
kver=$(basename "$(compgen -G "$kroot/lib/modules/*" | head -n 1)")
vmlinuz=$kroot/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no kernel image in $kimage"
moddir=$kroot/lib/modules/$kver
# The .deb has no modules.dep (its postinst runs depmod); busybox depmod makes one.
[ -s "$moddir/modules.dep" ] || "$busybox" depmod -b "$kroot" "$kver"

# --- the initramfs: busybox, the modules to mount the root, and /init.
ird=$work/initramfs
mkdir -p "$ird/bin" "$ird/modules"
cp "$busybox" "$ird/bin/busybox"
declare -A loaded=()
order=()
# Appends module $1 (a path relative to $moddir) after its dependencies.
add_module() {
  local rel=$1 dep
  [ -z "${loaded[$rel]:-}" ] || return 0
  loaded[$rel]=1
  for dep in $(awk -v m="$rel:" '$1 == m {$1 = ""; print; exit}' "$moddir/modules.dep"); do
    add_module "$dep"
  done
  cp "$moddir/$rel" "$ird/modules/"
  order+=("$(basename "$rel")")
}
for m in virtio_pci 9pnet_virtio 9p overlay; do
  rel=$(awk -F: -v m="/$m.ko" 'index($1, m) && substr($1, length($1) - length(m) + 1) == m {print $1; exit}' "$moddir/modules.dep")
  if [ -z "$rel" ]; then
    grep -q "/$m.ko\$" "$moddir/modules.builtin" || die "module $m is neither built in nor in $kimage"
    continue
  fi
  add_module "$rel"
done
printf '%s\n' "${order[@]}" >"$ird/modules/order"
cat >"$ird/init" <<EOF
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /lower /rw /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "kernel-matrix init: \$*"; echo o >/proc/sysrq-trigger; sleep 60; }
for m in \$(cat /modules/order); do insmod /modules/\$m || fail "insmod \$m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower || fail "mount the host root"
mount -t tmpfs -o mode=0755 rw /rw && mkdir /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "mount the overlay root"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "/newroot$run" || fail "mount the output share"
umount /sys /dev /proc
exec switch_root /newroot /bin/bash "$repo/scripts/kernel-matrix.sh" --guest "$run"
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

cat >"$run/guest.env" <<EOF
KM_REPO=$(printf '%q' "$repo")
KM_MODULES=$(printf '%q' "$moddir")
KM_BUSYBOX=$(printf '%q' "$busybox")
KM_TESTS=$(printf '%q' "$tests")
KM_COMMAND=$(printf '%q' "$command")
GUEST_MODULES=$(printf '%q' "$GUEST_MODULES")
KM_SYSCTLS=$(printf '%q' "$(for k in rmem_max wmem_max rmem_default wmem_default netdev_max_backlog optmem_max; do
  printf 'net.core.%s=%s ' "$k" "$(cat "/proc/sys/net/core/$k")"; done)")
KM_NOFILE=$(ulimit -Hn)
EOF

# --- build the tree on the host; the guest only runs it (mvn -o).
if [ -z "$command" ]; then
  say "building engine and modules with their tests (host)"
  # shellcheck disable=SC1091
  . scripts/env.sh
  ./mvnw -B -q -pl engine,modules -am test-compile
fi

case $accel in
  tcg | tcg,* | kvm) ;;
  *) die "--accel must be tcg (with qemu's options, e.g. tcg,thread=single) or kvm" ;;
esac

say "kernel $kver ($kimage), qemu $(qemu-system-x86_64 --version | awk 'NR == 1 {print $4}'), accel $accel, $cpus cpus, $memory"
say "tests: ${command:+command: }${command:-$tests}"
say "log: $run"
console=$run/console.log
qemu-system-x86_64 -accel "$accel" -cpu max -smp "$cpus" -m "$memory" \
  -machine q35 -display none -monitor none -serial "file:$console" -nic none -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$run,mount_tag=out,security_model=none,multidevs=remap" \
  </dev/null &
qemu_pid=$!
tail -n +1 -F "$console" 2>/dev/null | sed -u 's/^/  | /' &
tail_pid=$!
deadline=$((started + timeout_min * 60))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "timeout after $timeout_min min: stopping the guest"
    kill "$qemu_pid" 2>/dev/null || true
  fi
  sleep 5
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=
sleep 1
kill "$tail_pid" 2>/dev/null || true
wait "$tail_pid" 2>/dev/null || true
elapsed=$(($(date +%s) - started))

# --- summary: one line per test class from the surefire reports.
guest_rc=$(cat "$run/guest-exit" 2>/dev/null || echo none)
attr() { grep -o -m1 "<testsuite [^>]*" "$2" | grep -o " $1=\"[^\"]*\"" | head -n 1 | cut -d'"' -f2; }
status=0
summary=$run/summary.txt
{
  echo "kernel-matrix: kernel $kver ($kimage), accel $accel, $cpus cpus, $memory, $((elapsed / 60)) min $((elapsed % 60)) s"
  if [ -n "$command" ]; then
    echo "command: exit $guest_rc"
    [ "$guest_rc" = 0 ] || status=1
  else
    IFS=, read -r -a selected <<<"$tests"
    for sel in "${selected[@]}"; do
      cls=${sel%%#*} # Class#method selects methods; the report is the class's
      found=0
      for f in "$run"/reports/TEST-*."$cls".xml "$run"/reports/TEST-"$cls".xml; do
        [ -f "$f" ] || continue
        found=1
        n=$(attr tests "$f") fl=$(attr failures "$f") er=$(attr errors "$f") sk=$(attr skipped "$f") tm=$(attr time "$f")
        name=$(attr name "$f")
        if [ "$fl" = 0 ] && [ "$er" = 0 ] && [ "$sk" = 0 ] && [ "$n" -gt 0 ]; then v=PASS; else v=FAIL; status=1; fi
        printf '%-4s %-55s tests %3s  failures %s  errors %s  skipped %s  %8.1f s\n' "$v" "$name" "$n" "$fl" "$er" "$sk" "$tm"
      done
      [ "$found" = 1 ] || { printf 'FAIL %-55s no report (did not run)\n' "$cls"; status=1; }
    done
    for f in "$run"/hs_err_pid*.log; do
      [ -f "$f" ] || continue
      echo "JVM crash: $(basename "$f"): $(grep -m1 -A1 '^# Problematic frame' "$f" | tail -n 1 | cut -c3-)"
      status=1
    done
    echo "guest mvn exit: $guest_rc"
    [ "$guest_rc" = 0 ] || status=1
  fi
} >"$summary"
cat "$summary"
exit "$status"
