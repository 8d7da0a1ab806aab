#!/usr/bin/env python3
# Sums a syscall trace by phase and by kind of syscall: the time the kernel spent in each BPF command
# (program loads and maps by name), in netlink, setns, pins and closes, between the "MARK phase"
# lines a benchmark main writes to stdout (io.jvisor.bench.ApplyProfile), or at other text a program
# writes, given as TEXT=PHASE (e.g. 'applying ...=apply' 'applied in=after' for `jvisor up`). Made for
#   strace -f -qq -ttt -T -y --seccomp-bpf -o TRACE -e trace=bpf,setns,unshare,sendto,recvfrom,sendmsg,recvmsg,write,unlink,unlinkat,close,clone3 CMD
#   python3 bench/strace-phases.py TRACE [TEXT=PHASE ...]
# Times are the sum of syscall durations; with several threads they can exceed the wall time.
import re
import sys
from collections import defaultdict

LINE = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
CALL = re.compile(r'^(\w+)\((.*)$')
RESUMED = re.compile(r'^<\.\.\. (\w+) resumed>(.*)$')
DUR = re.compile(r'<(\d+\.\d+)>\s*$')


def kind(name, args):
    if name == 'bpf':
        m = re.match(r'(BPF_\w+)', args)
        cmd = m.group(1) if m else 'bpf?'
        if cmd == 'BPF_PROG_LOAD':
            n = re.search(r'prog_name="([^"]*)"', args)
            return cmd + ' ' + (n.group(1) if n else '?')
        if cmd == 'BPF_MAP_CREATE':
            n = re.search(r'map_name="([^"]*)"', args)
            return cmd + ' ' + (n.group(1) if n else '?')
        if cmd in ('BPF_MAP_UPDATE_ELEM', 'BPF_MAP_LOOKUP_ELEM', 'BPF_MAP_DELETE_ELEM'):
            return cmd
        return cmd
    if name in ('sendto', 'recvfrom', 'sendmsg', 'recvmsg'):
        if 'NETLINK' in args:
            return 'netlink ' + ('send' if name.startswith('send') else 'recv')
        return 'socket ' + name
    if name == 'close':
        m = re.match(r'\d+<([^>]*)>', args)
        what = m.group(1) if m else '?'
        if what.startswith('anon_inode:'):
            return 'close ' + what[len('anon_inode:'):]
        if 'NETLINK' in what:
            return 'close netlink'
        if what.startswith('net:'):
            return 'close netns'
        return 'close other'
    if name in ('unlink', 'unlinkat'):
        return 'unlink ' + ('bpffs' if '/sys/fs/bpf' in args else 'other')
    return name


def main(path, extra):
    pending = {}
    phase = 'before'
    order = [phase]
    sums = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    bounds = {}
    with open(path, errors='replace') as f:
        for raw in f:
            m = LINE.match(raw.rstrip('\n'))
            if not m:
                continue
            pid, ts, rest = m.group(1), float(m.group(2)), m.group(3)
            if rest.endswith('<unfinished ...>'):
                c = CALL.match(rest)
                if c:
                    pending[pid] = (c.group(1), c.group(2))
                continue
            r = RESUMED.match(rest)
            if r:
                name, args = pending.pop(pid, (r.group(1), ''))
                args = args + r.group(2)
            else:
                c = CALL.match(rest)
                if not c:
                    continue
                name, args = c.group(1), c.group(2)
            if name == 'write':
                mk = re.search(r'"MARK (\w+)\\n"', args)
                name_ = mk.group(1) if mk else next((ph for text, ph in extra if text in args), None)
                if name_:
                    bounds.setdefault(phase, [None, None])[1] = ts
                    phase = name_
                    order.append(phase)
                    bounds.setdefault(phase, [ts, None])
                continue
            d = DUR.search(args)
            if not d:
                continue
            s = sums[phase][kind(name, args)]
            s[0] += 1
            s[1] += float(d.group(1))
    for ph in order:
        if ph not in sums:
            continue
        b = bounds.get(ph, [None, None])
        wall = (b[1] - b[0]) * 1000 if b[0] and b[1] else float('nan')
        total = sum(v[1] for v in sums[ph].values()) * 1000
        print(f'== phase {ph}: wall {wall:.0f} ms (traced), syscalls {total:.0f} ms')
        print(f'| kind | calls | ms | ms each |')
        print(f'| --- | ---: | ---: | ---: |')
        for k, (n, t) in sorted(sums[ph].items(), key=lambda kv: -kv[1][1]):
            if t * 1000 < 1 and n < 50:
                continue
            print(f'| {k} | {n} | {t * 1000:.1f} | {t * 1000 / n:.3f} |')
        print()


if __name__ == '__main__':
    main(sys.argv[1], [tuple(a.rsplit('=', 1)) for a in sys.argv[2:]])
