package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.MapInfo;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.btf.LoadedBtf;
import io.jvisor.bpf.link.TracepointLink;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading real clang objects into the running kernel, and checking what the programs do. */
@RequiresRoot
class CollectionTest {
    private static final int XDP_ABORTED = 0, XDP_DROP = 1, XDP_PASS = 2, XDP_TX = 3;
    private static final int TC_ACT_OK = 0, TC_ACT_SHOT = 2;

    static byte[] frame(int etherType, int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < 12; i++) {
            f[i] = (byte) (0x10 + i);
        }
        f[12] = (byte) (etherType >> 8);
        f[13] = (byte) etherType;
        f[14] = 0x45;
        return f;
    }

    static long u64(byte[] b, int offset) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(offset);
    }

    static int u32(byte[] b, int offset) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    static byte[] key(int k) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
    }

    @Test
    void xdpProgramCountsPerProtocolAndMapsCarryBtf() throws Exception {
        TestObjects.requireBpftool();
        try (Collection c = Collection.load(TestObjects.spec("xdp_count.c"))) {
            var prog = c.program("xdp_count");
            assertThat(prog.testRun(TestRun.of(frame(0x0800, 64))).returnValue()).isEqualTo(XDP_PASS);
            assertThat(prog.testRun(TestRun.of(frame(0x0800, 100))).returnValue()).isEqualTo(XDP_PASS);
            assertThat(prog.testRun(TestRun.of(frame(0x86dd, 80))).returnValue()).isEqualTo(XDP_DROP);
            BpfMap byProto = c.map("by_proto");
            byte[] ipv4 = byProto.lookup(new byte[] {0x00, 0x08}).orElseThrow();
            assertThat(u64(ipv4, 0)).isEqualTo(2);
            assertThat(u64(ipv4, 8)).isEqualTo(164);
            MapInfo info = byProto.info();
            assertThat(info.btfId()).isPositive();
            assertThat(info.btfKeyTypeId()).isPositive();
            assertThat(info.btfValueTypeId()).isPositive();
            // bpftool pretty-prints the value through the map's BTF
            String dump = run("bpftool", "map", "dump", "id", Integer.toString(byProto.id()));
            assertThat(dump).contains("\"packets\": 2").contains("\"bytes\": 164");
            // line info reached the kernel: bpftool shows the C source next to the instructions
            String xlated = run("bpftool", "prog", "dump", "xlated", "id", Integer.toString(prog.id()));
            assertThat(xlated).contains("bpf_map_lookup_elem(&by_proto, &proto)");
        }
    }

    @Test
    void tcProgramsRunUnderTestRun() {
        try (Collection c = Collection.load(TestObjects.spec("tc_mark.c"))) {
            assertThat(c.program("tc_mark").testRun(TestRun.of(frame(0x0800, 64))).returnValue()).isEqualTo(TC_ACT_OK);
            assertThat(c.program("tcx_drop_small").testRun(TestRun.of(frame(0x0800, 40))).returnValue())
                    .isEqualTo(TC_ACT_SHOT);
            assertThat(c.program("tcx_drop_small").testRun(TestRun.of(frame(0x0800, 100))).returnValue())
                    .isEqualTo(TC_ACT_OK);
            assertThat(u64(c.map("seen").lookup(key(0)).orElseThrow(), 0)).isEqualTo(1);
            assertThat(u64(c.map("seen").lookup(key(1)).orElseThrow(), 0)).isEqualTo(2);
        }
    }

    @Test
    void tracepointFiresForThisProcessOnly() throws Throwable {
        CollectionSpec spec = TestObjects.spec("tp_getpid.c").withConstant("target_tgid", ProcessHandle.current().pid());
        MethodHandle getpid = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("getpid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
        try (Collection c = Collection.load(spec)) {
            var p = spec.programs().getFirst();
            try (TracepointLink link = TracepointLink.attach(c.program("count_getpid"), p.section().category(),
                    p.section().event())) {
                assertThat(link.fd().isClosed()).isFalse();
                for (int i = 0; i < 25; i++) {
                    int pid = (int) getpid.invokeExact();
                    assertThat(pid).isEqualTo((int) ProcessHandle.current().pid());
                }
            }
            CollectionSpec.Variable calls = spec.variables().stream().filter(v -> v.name().equals("calls"))
                    .findFirst().orElseThrow();
            byte[] bss = c.map(calls.section()).lookup(key(0)).orElseThrow();
            assertThat(u64(bss, calls.offset())).isGreaterThanOrEqualTo(25);
            assertThat(c.variables().getLong("calls")).isEqualTo(u64(bss, calls.offset()));
        }
    }

    @Test
    void globalDataIsFilledFrozenAndConstantsDifferPerInstance() {
        CollectionSpec spec = TestObjects.spec("globals.c");
        try (Collection pass = Collection.load(spec);
             Collection drop = Collection.load(spec.withConstant("verdict", XDP_DROP))) {
            assertThat(pass.program("xdp_globals").testRun(TestRun.of(frame(0x0800, 60))).returnValue())
                    .isEqualTo(XDP_PASS);
            assertThat(drop.program("xdp_globals").testRun(TestRun.of(frame(0x0800, 60))).returnValue())
                    .isEqualTo(XDP_DROP);
            var vars = spec.variables();
            CollectionSpec.Variable runs = vars.stream().filter(v -> v.name().equals("runs")).findFirst().orElseThrow();
            CollectionSpec.Variable lastLen = vars.stream().filter(v -> v.name().equals("last_len")).findFirst().orElseThrow();
            CollectionSpec.Variable tag = vars.stream().filter(v -> v.name().equals("tag")).findFirst().orElseThrow();
            assertThat(u32(pass.map(runs.section()).lookup(key(0)).orElseThrow(), runs.offset())).isEqualTo(1);
            assertThat(u64(pass.map(lastLen.section()).lookup(key(0)).orElseThrow(), lastLen.offset())).isEqualTo(60);
            byte[] data = pass.map(tag.section()).lookup(key(0)).orElseThrow();
            assertThat(new String(data, tag.offset(), 6)).isEqualTo("jvisor");
            // skeleton-style access through mmap: reads see the program's writes, and the program sees ours
            GlobalVariables globals = pass.variables();
            assertThat(globals.getLong("runs")).isEqualTo(1);
            assertThat(globals.getLong("last_len")).isEqualTo(60);
            assertThat(globals.getLong("magic")).isEqualTo(0x1122334455667788L);
            assertThat(new String(globals.get("tag"), 0, 6)).isEqualTo("jvisor");
            globals.setLong("runs", 41);
            pass.program("xdp_globals").testRun(TestRun.of(frame(0x0800, 70)));
            assertThat(u32(pass.map(runs.section()).lookup(key(0)).orElseThrow(), runs.offset())).isEqualTo(42);
            assertThat(globals.getLong("last_len")).isEqualTo(70);
            assertThatThrownBy(() -> globals.setLong("verdict", 0)).isInstanceOf(RuntimeException.class);
            assertThat(drop.variables().getLong("verdict")).isEqualTo(XDP_DROP);
            BpfMap rodata = pass.map(".rodata");
            assertThat(rodata.name()).isEqualTo("globals.rodata");
            assertThatThrownBy(() -> rodata.update(key(0), new byte[rodata.valueSize()]))
                    .isInstanceOf(BpfException.class).hasMessageContaining("EPERM");
        }
    }

    @Test
    void copiesOfOneObjectShareOneLoadedBtf() {
        CollectionSpec spec = TestObjects.spec("globals.c");
        try (LoadedBtf btf = Collection.loadBtf(spec, CollectionOptions.DEFAULT)) {
            CollectionOptions shared = CollectionOptions.DEFAULT.withBtf(btf);
            try (Collection pass = Collection.load(spec, shared);
                 Collection drop = Collection.load(spec.withConstant("verdict", XDP_DROP), shared)) {
                assertThat(pass.program("xdp_globals").testRun(TestRun.of(frame(0x0800, 60))).returnValue())
                        .isEqualTo(XDP_PASS);
                assertThat(drop.program("xdp_globals").testRun(TestRun.of(frame(0x0800, 60))).returnValue())
                        .isEqualTo(XDP_DROP);
                assertThat(pass.btf()).isSameAs(btf);
                int id = pass.program("xdp_globals").info().btfId();
                assertThat(id).isPositive().isEqualTo(drop.program("xdp_globals").info().btfId());
                assertThat(drop.map(".bss").info().btfId()).isEqualTo(id);
            }
            assertThat(btf.fd().isClosed()).as("the collections leave the shared BTF to its owner").isFalse();
            try (LoadedBtf other = Collection.loadBtf(TestObjects.spec("xdp_count.c"), CollectionOptions.DEFAULT)) {
                assertThatThrownBy(() -> Collection.load(spec, CollectionOptions.DEFAULT.withBtf(other)))
                        .isInstanceOf(io.jvisor.bpf.InvalidSpecException.class).hasMessageContaining("not this object's");
            }
        }
    }

    @Test
    void bpfToBpfCallsWork() {
        try (Collection c = Collection.load(TestObjects.spec("calls.c"))) {
            assertThat(c.program("xdp_calls").testRun(TestRun.of(frame(0x0800, 20))).returnValue()).isEqualTo(XDP_PASS);
            assertThat(c.program("xdp_square").testRun(TestRun.of(frame(0x0800, 30))).returnValue()).isEqualTo(XDP_PASS);
            assertThat(u64(c.map("results").lookup(key(0)).orElseThrow(), 0)).isEqualTo(20 * 20 + 3 * 3);
            assertThat(u64(c.map("results").lookup(key(1)).orElseThrow(), 0)).isEqualTo(30 * 30);
        }
    }

    @Test
    void replacementMapIsUsedInsteadOfCreatingOne() {
        try (BpfMap mine = BpfMap.create(MapSpec.array("results", 8, 4));
             Collection c = Collection.load(TestObjects.spec("calls.c"),
                     CollectionOptions.DEFAULT.withReplacement("results", mine))) {
            assertThat(c.map("results")).isSameAs(mine);
            c.program("xdp_square").testRun(TestRun.of(frame(0x0800, 16)));
            assertThat(u64(mine.lookup(key(1)).orElseThrow(), 0)).isEqualTo(256);
        }
    }

    @Test
    void replacementOfTheWrongShapeIsRefused() {
        try (BpfMap wrong = BpfMap.create(MapSpec.array("results", 4, 4))) {
            int before = io.jvisor.bpf.Fd.openCount();
            assertThatThrownBy(() -> Collection.load(TestObjects.spec("calls.c"),
                    CollectionOptions.DEFAULT.withReplacement("results", wrong)))
                    .hasMessageContaining("results").hasMessageContaining("value 4");
            assertThat(io.jvisor.bpf.Fd.openCount()).isEqualTo(before);
        }
    }

    @Test
    void mapInMapReadsThroughTheInnerMap() {
        try (Collection c = Collection.load(TestObjects.spec("map_in_map.c"));
             BpfMap inner = BpfMap.create(MapSpec.array("inner", 4, 1))) {
            var prog = c.program("xdp_inner");
            assertThat(prog.testRun(TestRun.of(frame(0x0800, 60))).returnValue()).isEqualTo(XDP_ABORTED);
            inner.update(key(0), key(XDP_TX));
            c.map("outer").setInner(key(2), inner);
            assertThat(prog.testRun(TestRun.of(frame(0x0800, 60))).returnValue()).isEqualTo(XDP_TX);
        }
    }

    @Test
    void pinnedMapIsSharedByTwoInstances() throws IOException {
        Path dir = Path.of("/sys/fs/bpf", Names.unique("jvtest"));
        Files.createDirectories(dir);
        try {
            CollectionOptions options = CollectionOptions.DEFAULT.withPinPath(dir);
            CollectionSpec spec = TestObjects.spec("pinned.c");
            try (Collection first = Collection.load(spec, options);
                 Collection second = Collection.load(spec, options)) {
                assertThat(Files.exists(dir.resolve("shared_hits"))).isTrue();
                assertThat(second.map("shared_hits").id()).isEqualTo(first.map("shared_hits").id());
                first.program("xdp_hits").testRun(TestRun.of(frame(0x0800, 60)));
                second.program("xdp_hits").testRun(TestRun.of(frame(0x0800, 60)));
                assertThat(u64(first.map("shared_hits").lookup(key(0)).orElseThrow(), 0)).isEqualTo(2);
            }
            // the pin outlives the collections; a third instance still sees the count
            try (Collection third = Collection.load(spec, options)) {
                assertThat(u64(third.map("shared_hits").lookup(key(0)).orElseThrow(), 0)).isEqualTo(2);
            }
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void pinAllPinsProgramsAndMaps() throws IOException {
        Path dir = Path.of("/sys/fs/bpf", Names.unique("jvtest"));
        try (Collection c = Collection.load(TestObjects.spec("globals.c"))) {
            var pinned = c.pinAll(dir);
            // bpffs refuses '.' in names: global data maps are pinned as globals_rodata and so on
            assertThat(pinned).extracting(p -> p.getFileName().toString())
                    .contains("xdp_globals", "globals_rodata", "globals_data", "globals_bss");
            try (var again = io.jvisor.bpf.BpfProgram.openPinned(dir.resolve("xdp_globals"))) {
                assertThat(again.id()).isEqualTo(c.program("xdp_globals").id());
            }
        } finally {
            deleteTree(dir);
        }
    }

    @Test
    void verifierRejectionPointsAtTheCLine() {
        int before = io.jvisor.bpf.Fd.openCount();
        assertThatThrownBy(() -> Collection.load(TestObjects.spec("broken.c")))
                .isInstanceOfSatisfying(VerifierException.class, e -> {
                    assertThat(e.source()).startsWith("broken.c:12: if (ip->ihl > 5)");
                    assertThat(e.verdict()).contains("outside of the packet");
                    System.out.println("verifier error: " + e.getMessage());
                    assertThat(e.getMessage()).contains("broken.c:12: if (ip->ihl > 5) -> ");
                });
        assertThat(io.jvisor.bpf.Fd.openCount()).isEqualTo(before);
    }

    @Test
    void btfTheKernelRefusesIsNamedInTheError() throws Exception {
        CollectionSpec spec = TestObjects.spec("xdp_count.c");
        byte[] raw = spec.btf().raw();
        // Make the first INT claim 200 bits in its 2 or 4 bytes: the kernel's BTF checker refuses it.
        int id = spec.btf().types().indexOf(spec.btf().types().stream()
                .filter(t -> t instanceof io.jvisor.bpf.btf.BtfType.Int).findFirst().orElseThrow());
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int typeStart = 24 + b.getInt(8);
        int at = typeStart;
        for (int i = 1; i < id; i++) {
            at += typeSize(b, at);
        }
        b.put(at + 12, (byte) 200);
        CollectionSpec bad = new CollectionSpec(spec.name(), spec.programs(), spec.maps(),
                io.jvisor.bpf.btf.Btf.parse(raw), spec.license());
        assertThatThrownBy(() -> Collection.load(bad)).isInstanceOf(LoadedBtf.BtfLoadException.class)
                .hasMessageContaining("does not match the kernel");
    }

    private static int typeSize(ByteBuffer b, int at) {
        int info = b.getInt(at + 4);
        int kind = (info >>> 24) & 0x1f;
        int vlen = info & 0xffff;
        return 12 + switch (kind) {
            case 1, 14, 17 -> 4;
            case 3 -> 12;
            case 4, 5, 15, 19 -> 12 * vlen;
            case 6, 13 -> 8 * vlen;
            default -> 0;
        };
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
