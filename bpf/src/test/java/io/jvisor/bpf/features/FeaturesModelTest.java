package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.Errno;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The probe model, its rendering and the refusal hints, built by hand: pure, no root. */
class FeaturesModelTest {
    static final Capabilities ROOT_WITHOUT_SYS_RESOURCE = Capabilities.ofHex("000001fffeffffff", 40);
    static final Capabilities NO_NET_ADMIN = Capabilities.ofHex(
            Long.toHexString(0x1fffeffffffL & ~(1L << Capability.NET_ADMIN.number())
                    & ~(1L << Capability.SYS_ADMIN.number())), 40);

    @Test
    void kernelVersionParses() {
        KernelVersion v = KernelVersion.parse("6.18.44-fc-v595");
        assertThat(v.major()).isEqualTo(6);
        assertThat(v.minor()).isEqualTo(18);
        assertThat(v.patch()).isEqualTo(44);
        assertThat(v.atLeast(6, 6)).isTrue();
        assertThat(v.atLeast(6, 19)).isFalse();
        assertThat(KernelVersion.parse("5.10").patch()).isZero();
    }

    static Features sample() {
        Map<ProgramType, Support> progs = new EnumMap<>(ProgramType.class);
        progs.put(ProgramType.XDP, Support.YES);
        progs.put(ProgramType.LIRC_MODE2, Support.refused(Errno.EINVAL.number(), "not built in"));
        Map<MapType, Support> maps = new EnumMap<>(MapType.class);
        maps.put(MapType.HASH, Support.YES);
        maps.put(MapType.ARENA, Support.refused(Errno.EPERM.number(), "refused by this kernel"));
        Map<AttachType, Support> attach = new EnumMap<>(AttachType.class);
        attach.put(AttachType.TCX_INGRESS, Support.YES);
        List<Requirement> needs = List.of(
                new Requirement("link.tcx", "tcx links", "attaching the tc hook", Support.YES, "clsact + cls_bpf"),
                new Requirement("xdp.metadata", "XDP metadata (bpf_xdp_adjust_meta)", "the XDP hook",
                        Support.refused(Errno.EINVAL.number(), "program of this type cannot use helper "
                                + "bpf_xdp_adjust_meta#54", "this kernel build does not offer it"),
                        "per-CPU scratch metadata channel"),
                new Requirement("map.prog_array", "prog arrays", "the patch panel",
                        Support.refused(Errno.EPERM.number(), "needs CAP_BPF"), ""));
        return new Features(KernelVersion.parse("6.18.44"), ROOT_WITHOUT_SYS_RESOURCE, progs, maps, attach,
                Map.of(), needs);
    }

    @Test
    void renderShowsCapabilitiesAndForEachRefusalItsHintAndFallback() {
        String text = sample().render();
        assertThat(text).contains("Kernel: 6.18.44").contains("Capabilities: 000001fffeffffff (40 of 41)")
                .contains("missing: CAP_SYS_RESOURCE")
                .contains("JVISOR NEEDS (1 of 3)")
                .contains("xdp.metadata")
                .contains("no (program of this type cannot use helper bpf_xdp_adjust_meta#54)")
                .contains("hint:     this kernel build does not offer it")
                .contains("fallback: per-CPU scratch metadata channel")
                .contains("used by:  the XDP hook")
                .contains("map.prog_array").contains("no (EPERM)").contains("fallback: none")
                .contains("lirc_mode2").contains("EINVAL: not built in")
                .contains("arena").contains("EPERM: refused by this kernel")
                .contains("(helpers: run 'jvisor features --helpers' to probe each helper)");
        // a met requirement is one line: no fallback is shown for it
        assertThat(text).doesNotContain("fallback: clsact + cls_bpf");
    }

    @Test
    void requirementsAreFoundByKey() {
        Features f = sample();
        assertThat(f.requirement("xdp.metadata").orElseThrow().needs()).isEqualTo("this kernel build does not offer it");
        assertThat(f.requirement("link.tcx").orElseThrow().met()).isTrue();
        assertThat(f.requirement("nope")).isEmpty();
        assertThat(f.unmet()).containsExactly("xdp.metadata", "map.prog_array");
        assertThatThrownBy(() -> new Requirement("Bad Key", "x", "y", Support.YES, ""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void supportCarriesTheErrnoAndExplainsItself() {
        Support s = Support.refused(Errno.EPERM.number(), "needs CAP_NET_ADMIN");
        assertThat(s.word()).isEqualTo("no");
        assertThat(s.detail()).isEqualTo("EPERM");
        assertThat(s.errnoConstant()).isEqualTo(Errno.EPERM);
        assertThat(s.explanation()).isEqualTo("EPERM: needs CAP_NET_ADMIN");
        assertThat(Support.YES.explanation()).isEmpty();
        assertThat(Support.notProbed("needs a BTF attach target").word()).isEqualTo("not probed");
        assertThat(Support.no("gone").withHint("h").explanation()).isEqualTo("gone: h");
    }

    @Test
    void anEpermNamesTheMissingCapabilityOrSaysTheKernelRefusesAnyway() {
        assertThat(Refusals.programType(ProgramType.XDP, Errno.EPERM.number(), NO_NET_ADMIN))
                .isEqualTo("needs CAP_NET_ADMIN");
        assertThat(Refusals.programType(ProgramType.XDP, Errno.EPERM.number(), ROOT_WITHOUT_SYS_RESOURCE))
                .contains("refused by this kernel although this process has CAP_BPF and CAP_NET_ADMIN");
        assertThat(Refusals.mapType(MapType.ARENA, Errno.EPERM.number(), ROOT_WITHOUT_SYS_RESOURCE))
                .contains("refused by this kernel although this process has CAP_BPF")
                .contains("arena maps");
        assertThat(Refusals.mapType(MapType.DEVMAP_HASH, Errno.EPERM.number(), NO_NET_ADMIN))
                .isEqualTo("needs CAP_NET_ADMIN");
        Capabilities none = Capabilities.ofHex("0", 40);
        assertThat(Refusals.mapType(MapType.ARENA, Errno.EPERM.number(), none)).isEqualTo("needs CAP_BPF");
        assertThat(Refusals.programType(ProgramType.TRACEPOINT, Errno.EPERM.number(), none))
                .isEqualTo("needs CAP_BPF and CAP_PERFMON");
    }

    @Test
    void helperRefusalsSayWhetherTheKernelIsTooOldOrRestricted() {
        KernelVersion now = KernelVersion.parse("6.18.44");
        assertThat(Refusals.helper(ProgramType.XDP, Helper.XDP_ADJUST_META, ROOT_WITHOUT_SYS_RESOURCE, now))
                .contains("this kernel build does not offer bpf_xdp_adjust_meta to xdp programs")
                .contains("since 4.15");
        assertThat(Refusals.helper(ProgramType.SCHED_CLS, Helper.REDIRECT_PEER, ROOT_WITHOUT_SYS_RESOURCE,
                KernelVersion.parse("5.4"))).isEqualTo("needs kernel 5.10+");
        assertThat(Refusals.helper(ProgramType.XDP, Helper.LOOP, Capabilities.ofHex("3000", 40), now))
                .isEqualTo("needs CAP_BPF");
        assertThat(Refusals.attachType(AttachType.TCX_INGRESS, Errno.EINVAL.number(), ROOT_WITHOUT_SYS_RESOURCE,
                KernelVersion.parse("6.1"))).isEqualTo("needs kernel 6.6+");
    }

    @Test
    void helperTableNamesEachProgramAndHookOnce() {
        Set<String> seen = new HashSet<>();
        for (HelperUse use : HelperUse.JVISOR) {
            assertThat(seen.add(use.program() + "." + use.hook())).as(use.program() + "." + use.hook()).isTrue();
            assertThat(use.type()).isIn(ProgramType.SCHED_CLS, ProgramType.XDP);
            assertThat(use.helpers()).isNotEmpty().doesNotHaveDuplicates().doesNotContain(Helper.XDP_ADJUST_META);
        }
        assertThat(seen).contains("entry.tc", "entry.xdp", "bridge.tc", "bridge.xdp", "router.xdp");
    }
}
