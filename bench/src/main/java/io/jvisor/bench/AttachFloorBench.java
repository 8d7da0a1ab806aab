package io.jvisor.bench;

import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.link.BpfLink;
import io.jvisor.bpf.link.TcxDirection;
import io.jvisor.bpf.link.XdpMode;
import io.jvisor.net.Netns;
import io.jvisor.net.Rtnl;
import io.jvisor.net.TcDirection;
import io.jvisor.net.TcFilterSpec;
import io.jvisor.net.XdpAttachMode;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntConsumer;

/**
 * What attaching one program to each of N devices costs the kernel, and removing it again, by attach
 * method: tcx links, netlink clsact + cls_bpf filters, XDP links (native, on veth) and netlink XDP;
 * from one thread and from several. The program is one instruction and every device is a veth in a
 * namespace of our own, so what remains is the attach step itself. tcx waits for an RCU grace
 * period at every attach and detach (tcx_entry_sync, under RTNL); {@code --expedited} runs the tcx
 * rows once more with {@code /sys/kernel/rcu_expedited} set to 1 and restores it, to show that this
 * wait is the cost. That knob is global to the machine: the engine never sets it.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar io.jvisor.bench.AttachFloorBench \
 *     [--devices N] [--threads N] [--expedited]
 * </pre>
 */
public final class AttachFloorBench {
    private static final Path RCU_EXPEDITED = Path.of("/sys/kernel/rcu_expedited");

    private AttachFloorBench() {}

    public static void main(String[] args) throws Exception {
        BenchArgs a = BenchArgs.parse("AttachFloorBench", "[--devices N] [--threads N] [--expedited]", args,
                List.of("--expedited"), List.of("--devices", "--threads"));
        if (a == null) {
            return;
        }
        int devices = a.intOr("--devices", 200);
        int threads = a.intOr("--threads", 4);
        PrintStream out = System.out;
        out.println("== attach floor: " + devices + " veth devices, one-instruction programs; load average before "
                + EngineBenchSupport.loadAverage());
        out.println();
        out.println("| method | threads | attach ms total | attach ms each | detach ms total | detach ms each |");
        out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
        try (EngineBenchSupport.ScratchNetns ns = EngineBenchSupport.ScratchNetns.create("jvaf", (devices + 1) / 2);
             BpfProgram tc = BpfProgram.load(ProgramSpec.of("floor_tc", ProgramType.SCHED_CLS, null,
                     new Asm().mov64(Register.R0, 0).exit().build()));
             BpfProgram xdp = BpfProgram.load(ProgramSpec.of("floor_xdp", ProgramType.XDP, null,
                     new Asm().mov64(Register.R0, 2).exit().build()))) {
            int[] ifindex = new int[devices];
            try (Rtnl r = Rtnl.open(ns.netns)) {
                for (int d = 0; d < devices; d++) {
                    ifindex[d] = r.ifindex(ApplyTimeBench.device(d));
                    r.setUp(ApplyTimeBench.device(d));
                }
            }
            Runner runner = new Runner(ns.name(), Math.max(1, threads));
            try {
                tcx(out, runner, tc, ifindex, 1, "tcx link");
                tcx(out, runner, tc, ifindex, threads, "tcx link");
                netlinkTc(out, runner, tc, ifindex, 1);
                netlinkTc(out, runner, tc, ifindex, threads);
                xdpLink(out, runner, xdp, ifindex, 1);
                netlinkXdp(out, runner, xdp, ifindex, 1);
                if (a.has("--expedited")) {
                    String before = Files.readString(RCU_EXPEDITED).strip();
                    try {
                        Files.writeString(RCU_EXPEDITED, "1");
                        tcx(out, runner, tc, ifindex, 1, "tcx link, rcu_expedited=1");
                        netlinkTc(out, runner, tc, ifindex, 1, "netlink clsact + cls_bpf, rcu_expedited=1");
                    } finally {
                        Files.writeString(RCU_EXPEDITED, before);
                    }
                }
            } finally {
                runner.close();
            }
        }
        out.println();
        out.println("load average after " + EngineBenchSupport.loadAverage());
    }

    /** One namespace handle (and so one thread inside the namespace) per worker. */
    private static final class Runner implements AutoCloseable {
        final List<Netns> handles = new ArrayList<>();

        Runner(String netns, int threads) {
            for (int t = 0; t < threads; t++) {
                handles.add(Netns.open(netns));
            }
        }

        /** Runs {@code each} for 0..n-1 split over {@code threads} workers; returns the wall time in ns. */
        long run(int n, int threads, IntConsumer each) {
            long t0 = System.nanoTime();
            List<CompletableFuture<Void>> jobs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                Netns ns = handles.get(t);
                jobs.add(CompletableFuture.runAsync(() -> ns.run(() -> {
                    for (int i = first; i < n; i += threads) {
                        each.accept(i);
                    }
                })));
            }
            jobs.forEach(CompletableFuture::join);
            return System.nanoTime() - t0;
        }

        @Override
        public void close() {
            handles.forEach(Netns::close);
        }
    }

    private static void tcx(PrintStream out, Runner r, BpfProgram p, int[] ifindex, int threads, String what) {
        int n = ifindex.length;
        BpfLink[] links = new BpfLink[n];
        try {
            long a = r.run(n, threads, i -> links[i] = BpfLink.tcx(p, ifindex[i], TcxDirection.INGRESS));
            long d = r.run(n, threads, i -> {
                links[i].close();
                links[i] = null;
            });
            row(out, what, threads, a, d, n);
        } finally {
            for (BpfLink l : links) {
                if (l != null) {
                    l.close();
                }
            }
        }
    }

    private static void netlinkTc(PrintStream out, Runner r, BpfProgram p, int[] ifindex, int threads) {
        netlinkTc(out, r, p, ifindex, threads, "netlink clsact + cls_bpf");
    }

    /**
     * Attach: clsact and a filter on each device (one rtnetlink socket per worker). Detach: the
     * filter deleted, then (a second row) the clsact qdiscs deleted.
     */
    private static void netlinkTc(PrintStream out, Runner r, BpfProgram p, int[] ifindex, int threads, String what) {
        int n = ifindex.length;
        List<Rtnl> socks = Collections.synchronizedList(new ArrayList<>());
        ThreadLocal<Rtnl> rtnl = ThreadLocal.withInitial(() -> {
            Rtnl s = Rtnl.open();
            socks.add(s);
            return s;
        });
        try {
            long a = r.run(n, threads, i -> {
                rtnl.get().ensureClsact(ifindex[i]);
                rtnl.get().attachTcFilter(TcFilterSpec.of(ifindex[i], TcDirection.INGRESS, 1, 0x4a56, p));
            });
            long d = r.run(n, threads, i -> rtnl.get().deleteTcFilter(ifindex[i], TcDirection.INGRESS, 1, 0x4a56));
            long q = r.run(n, threads, i -> rtnl.get().deleteClsact(ifindex[i]));
            row(out, what, threads, a, d, n);
            row(out, what + " (then the clsact qdiscs deleted)", threads, 0, q, n);
        } finally {
            r.run(n, 1, i -> {
                try (Rtnl s = Rtnl.open()) {
                    if (s.hasClsact(ifindex[i])) {
                        s.deleteClsact(ifindex[i]);
                    }
                }
            });
            socks.forEach(Rtnl::close);
        }
    }

    private static void xdpLink(PrintStream out, Runner r, BpfProgram p, int[] ifindex, int threads) {
        int n = ifindex.length;
        BpfLink[] links = new BpfLink[n];
        try {
            long a = r.run(n, threads, i -> links[i] = BpfLink.xdp(p, ifindex[i], XdpMode.DRIVER));
            long d = r.run(n, threads, i -> {
                links[i].close();
                links[i] = null;
            });
            row(out, "XDP link (native, veth)", threads, a, d, n);
        } finally {
            for (BpfLink l : links) {
                if (l != null) {
                    l.close();
                }
            }
        }
    }

    private static void netlinkXdp(PrintStream out, Runner r, BpfProgram p, int[] ifindex, int threads) {
        int n = ifindex.length;
        boolean[] on = new boolean[n];
        try (Rtnl s = Rtnl.open(r.handles.getFirst())) {
            long a = r.run(n, 1, i -> {
                s.attachXdpIfNone(ifindex[i], p.fd().get(), XdpAttachMode.DRIVER);
                on[i] = true;
            });
            long d = r.run(n, 1, i -> {
                s.detachXdp(ifindex[i], XdpAttachMode.DRIVER);
                on[i] = false;
            });
            row(out, "netlink XDP (native, veth)", threads, a, d, n);
        } finally {
            try (Rtnl s = Rtnl.open(r.handles.getFirst())) {
                for (int i = 0; i < n; i++) {
                    if (on[i]) {
                        s.detachXdp(ifindex[i], XdpAttachMode.DRIVER);
                    }
                }
            }
        }
    }

    private static void row(PrintStream out, String what, int threads, long attachNs, long detachNs, int n) {
        out.printf(Locale.ROOT, "| %s | %d | %s | %s | %.0f | %.2f |%n", what, threads,
                attachNs == 0 ? "-" : String.format(Locale.ROOT, "%.0f", attachNs / 1e6),
                attachNs == 0 ? "-" : String.format(Locale.ROOT, "%.2f", attachNs / 1e6 / n), detachNs / 1e6,
                detachNs / 1e6 / n);
        out.flush();
    }

}
