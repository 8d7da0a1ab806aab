package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramSpec;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.VerifierException;
import io.jvisor.bpf.asm.Asm;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jvisor.bpf.asm.Register.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The probes against the running kernel. They hold on both kinds of machine this project meets: one
 * that offers everything, and one whose kernel refuses bpf_xdp_adjust_meta in XDP, live frames and
 * arena maps, and whose root lacks CAP_SYS_RESOURCE. Where the kernel offers a feature, the test uses
 * it; where it refuses, the test asserts the refusal is an answer (errno, hint, fallback), not an abort.
 */
@RequiresRoot
class FeaturesTest {
    static final int XDP_DROP = 1, XDP_PASS = 2;

    private static Features features;

    @BeforeAll
    static void probeOnce() {
        features = Features.probe(true);
    }

    /**
     * What jvisor needs and every kernel CI runs on (6.6+) has: a "no" here is a broken probe, not a
     * missing feature.
     */
    @Test
    @RequiresRoot
    void probeFindsWhatJvisorNeeds() {
        Features f = features;
        assertThat(f.kernel().atLeast(6, 6)).as("tcx needs 6.6+; CI runs 6.18").isTrue();
        for (ProgramType t : new ProgramType[] {ProgramType.XDP, ProgramType.SCHED_CLS, ProgramType.SOCKET_FILTER,
                ProgramType.TRACEPOINT, ProgramType.SYSCALL}) {
            assertThat(f.programTypes().get(t).supported()).as(t.kernelName()).isTrue();
        }
        for (MapType t : new MapType[] {MapType.HASH, MapType.ARRAY, MapType.LRU_HASH, MapType.LPM_TRIE,
                MapType.PROG_ARRAY, MapType.DEVMAP, MapType.DEVMAP_HASH, MapType.RINGBUF, MapType.ARRAY_OF_MAPS,
                MapType.QUEUE}) {
            assertThat(f.mapTypes().get(t).supported()).as(t.kernelName()).isTrue();
        }
        assertThat(f.attachTypes().get(AttachType.XDP).supported()).isTrue();
        assertThat(f.attachTypes().get(AttachType.TCX_INGRESS).supported()).isTrue();
        assertThat(f.attachTypes().get(AttachType.TCX_EGRESS).supported()).isTrue();
        // Helpers: tc may redirect and change tunnel keys, XDP may adjust its head, a socket filter may not.
        assertThat(f.helpers().get(ProgramType.SCHED_CLS).get(Helper.SKB_SET_TUNNEL_KEY).supported()).isTrue();
        assertThat(f.helpers().get(ProgramType.XDP).get(Helper.XDP_ADJUST_HEAD).supported()).isTrue();
        assertThat(f.helpers().get(ProgramType.XDP).get(Helper.SKB_STORE_BYTES).supported()).isFalse();
        Support redirect = f.helpers().get(ProgramType.SOCKET_FILTER).get(Helper.REDIRECT);
        assertThat(redirect.supported()).isFalse();
        assertThat(redirect.errnoConstant()).isEqualTo(Errno.EINVAL);
        assertThat(redirect.hint()).contains("bpf_redirect").contains("socket_filter");
        // A type that needs a BTF attach target is reported as not probed rather than as missing.
        assertThat(f.programTypes().get(ProgramType.TRACING).probed()).isFalse();

        // jvisor's own rows: every one that does not depend on the machine is met.
        List<String> always = new ArrayList<>(List.of("prog.sched_cls", "prog.xdp", "link.tcx", "link.xdp",
                "map.prog_array", "map.ringbuf", "map.devmap_hash", "maps.tables", "tc.redirect_peer"));
        for (HelperUse use : HelperUse.JVISOR) {
            always.add("helpers." + use.program() + "." + use.hook());
        }
        for (String key : always) {
            Requirement r = f.requirement(key).orElseThrow(() -> new AssertionError("no row " + key));
            assertThat(r.met()).as(key + ": " + r.support()).isTrue();
        }
        assertThat(f.requirements()).extracting(Requirement::key)
                .containsAll(always).contains("xdp.metadata", "xdp.live_frames").doesNotHaveDuplicates();
        // A refused row is an answer: an errno or a reason, a hint, and what it is used for.
        for (Requirement r : f.requirements()) {
            if (!r.met()) {
                assertThat(r.support().errno()).as(r.key()).isPositive();
                assertThat(r.needs()).as(r.key()).isNotBlank();
                assertThat(r.usedBy()).as(r.key()).isNotBlank();
            }
        }
        assertThat(f.unmet()).isSubsetOf("xdp.metadata", "xdp.live_frames");

        // The effective capabilities are this process's.
        assertThat(f.capabilities().has(Capability.BPF)).isTrue();
        assertThat(f.capabilities().has(Capability.NET_ADMIN)).isTrue();

        String table = f.render();
        assertThat(table).contains("Kernel: ").contains("Capabilities: " + f.capabilities().hex())
                .contains("JVISOR NEEDS").contains("xdp.metadata").contains("helpers.bridge.tc")
                .contains("PROGRAM TYPE").contains("xdp").contains("MAP TYPE").contains("lpm_trie")
                .contains("HELPER FOR XDP").contains("bpf_xdp_adjust_head");
        for (String key : f.unmet()) {
            assertThat(table).contains(key).contains("fallback: " + f.requirement(key).orElseThrow().fallback());
        }
    }

    @Test
    void privilegeIsCheckedOnceAndPassesForRoot() {
        Features.checkPrivilege();
    }

    /**
     * Where the kernel offers bpf_xdp_adjust_meta, a program that grows the metadata area and writes a
     * marker into it runs, and the marker comes back in front of the frame. Where it refuses, loading
     * that program fails with the verifier's words, and the probe says so with a hint and the fallback.
     */
    @Test
    void xdpMetadataWorksOrIsRefusedClearly() {
        Support s = Features.xdpMetadata();
        assertThat(Features.xdpMetadata()).as("probed once per process").isSameAs(s);
        Requirement row = features.requirement("xdp.metadata").orElseThrow();
        assertThat(row.support()).isEqualTo(s);
        assertThat(row.fallback()).isEqualTo("per-CPU scratch metadata channel");
        assertThat(features.helpers().get(ProgramType.XDP).get(Helper.XDP_ADJUST_META).supported())
                .as("the generic helper probe agrees").isEqualTo(s.supported());
        List<Instruction> code = new Asm()
                .mov64(R6, R1)
                .mov64(R2, -4)
                .call(Helper.XDP_ADJUST_META)
                .jmp(Opcodes.JNE, R0, 0, "drop")
                .ldx(Opcodes.W, R2, R6, 8)   // data_meta
                .ldx(Opcodes.W, R3, R6, 0)   // data
                .mov64(R4, R2).add64(R4, 4)
                .jmp(Opcodes.JGT, R4, R3, "drop")
                .st(Opcodes.W, R2, 0, 0x0a0b0c0d)
                .mov64(R0, XDP_PASS).exit()
                .label("drop").mov64(R0, XDP_DROP).exit()
                .build();
        ProgramSpec spec = ProgramSpec.of("meta_mark", ProgramType.XDP, AttachType.XDP, code);
        byte[] frame = new byte[64];
        frame[12] = 0x08;
        if (s.supported()) {
            try (BpfProgram p = BpfProgram.load(spec)) {
                TestRun.Result r = p.testRun(TestRun.of(frame));
                assertThat(r.returnValue()).isEqualTo(XDP_PASS);
                assertThat(r.data()).hasSize(4 + frame.length);
                assertThat(Arrays.copyOf(r.data(), 4)).containsExactly(0x0d, 0x0c, 0x0b, 0x0a);
            }
        } else {
            assertThat(s.errno()).isPositive();
            assertThat(s.detail()).contains("bpf_xdp_adjust_meta");
            assertThat(s.hint()).isNotBlank();
            assertThatThrownBy(() -> BpfProgram.load(spec)).isInstanceOf(VerifierException.class)
                    .hasMessageContaining("bpf_xdp_adjust_meta");
        }
    }

    /**
     * Where live frames work, a live run of a dropping program succeeds (ProgramTest counts the frames);
     * where the kernel refuses them, the error names the flag and the errno, and does not tell root to
     * run as root.
     */
    @Test
    void liveFramesRunOrAreRefusedClearly() {
        Support s = Features.xdpLiveFrames();
        Requirement row = features.requirement("xdp.live_frames").orElseThrow();
        assertThat(row.support()).isEqualTo(s);
        assertThat(row.fallback()).contains("AF_PACKET");
        byte[] frame = new byte[64];
        frame[12] = 0x08;
        try (BpfProgram p = BpfProgram.load(ProgramSpec.of("live_probe", ProgramType.XDP, AttachType.XDP,
                new Asm().mov64(R0, XDP_DROP).exit().build()))) {
            TestRun live = TestRun.of(frame).withRepeat(1).withFlags(TestRun.XDP_LIVE_FRAMES);
            if (s.supported()) {
                assertThat(p.testRun(live).data()).isEmpty();
            } else {
                assertThat(s.errno()).isPositive();
                assertThat(s.hint()).isNotBlank();
                assertThatThrownBy(() -> p.testRun(live)).isInstanceOf(BpfException.class)
                        .satisfies(e -> assertThat(((BpfException) e).errno()).isEqualTo(s.errno()))
                        .hasMessageContaining("BPF_F_TEST_XDP_LIVE_FRAMES")
                        .hasMessageContaining(Errno.name(s.errno()))
                        .hasMessageNotContaining("run as root");
            }
        }
    }

    /** Arena maps: created where offered; elsewhere refused with the errno and what the refusal wants. */
    @Test
    void arenaIsCreatedOrRefusedWithAHint() {
        Support arena = features.mapTypes().get(MapType.ARENA);
        assertThat(Features.probeMapType(MapType.ARENA).supported()).isEqualTo(arena.supported());
        if (!arena.supported()) {
            assertThat(arena.errno()).isPositive();
            assertThat(arena.hint()).isNotBlank();
            if (arena.errnoConstant() == Errno.EPERM && features.capabilities().allows(Capability.BPF)) {
                // CAP_BPF is all upstream asks for an arena: the hint must not send root for a capability.
                assertThat(arena.hint()).contains("refused by this kernel").contains("CAP_BPF");
            }
        }
        assertThat(features.render()).contains("arena");
    }

    /**
     * Without CAP_BPF (dropped from a child's bounding and inheritable sets), the probe stops at the
     * privilege check with the effective capabilities, instead of failing on some later map type.
     */
    @Test
    void withoutCapBpfTheProbeStopsAtThePrivilegeCheck() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder("setpriv", "--inh-caps=-bpf,-sys_admin",
                "--bounding-set=-bpf,-sys_admin", java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ProbeMain.class.getName())
                .redirectErrorStream(true);
        Process p = pb.start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).as(out).isEqualTo(3);
        assertThat(out).contains("InsufficientPrivilegeException").contains("privilege check").contains("EPERM")
                .contains("lacks CAP_BPF").contains("missing: ").contains("CAP_BPF");
    }

    /** Runs the probe; exit 3 with the exception when the privilege check refuses. */
    public static final class ProbeMain {
        public static void main(String[] args) {
            try {
                System.out.println(Features.probe(false).render());
            } catch (InsufficientPrivilegeException e) {
                System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
                System.exit(3);
            }
        }
    }
}
