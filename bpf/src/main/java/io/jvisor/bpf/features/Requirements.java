package io.jvisor.bpf.features;

import io.jvisor.bpf.AttachType;
import io.jvisor.bpf.MapType;
import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds the rows of what jvisor relies on from the generic probes, probing what they lack. */
final class Requirements {
    private Requirements() {}

    /** A named part of a requirement, for the detail of a refusal. */
    private record Part(String name, Support support) {}

    static List<Requirement> probe(KernelVersion kernel, Capabilities caps, Map<ProgramType, Support> progs,
                                   Map<MapType, Support> maps, Map<AttachType, Support> attach,
                                   Map<ProgramType, Map<Helper, Support>> probedHelpers) {
        Map<ProgramType, Map<Helper, Support>> cache = new EnumMap<>(ProgramType.class);
        probedHelpers.forEach((t, m) -> cache.put(t, new EnumMap<>(m)));
        HelperProbe helper = (t, h) -> cache.computeIfAbsent(t, k -> new EnumMap<>(Helper.class))
                .computeIfAbsent(h, k -> Features.probeHelper(t, h, caps, kernel));

        List<Requirement> out = new ArrayList<>();
        out.add(new Requirement("prog.sched_cls", "tc programs (sched_cls)",
                "the tc hook: the entry program and every module", progs.get(ProgramType.SCHED_CLS),
                "the XDP hook (engine hook xdp)"));
        out.add(new Requirement("prog.xdp", "XDP programs", "the XDP hook", progs.get(ProgramType.XDP),
                "the tc hook (the default)"));
        out.add(new Requirement("link.tcx", "tcx links (BPF_LINK_CREATE tcx_ingress, tcx_egress)",
                "attaching the tc hook to devices",
                all(new Part("tcx_ingress", attach.get(AttachType.TCX_INGRESS)),
                        new Part("tcx_egress", attach.get(AttachType.TCX_EGRESS))),
                "clsact + cls_bpf (attach method netlink)"));
        out.add(new Requirement("link.xdp", "XDP links (BPF_LINK_CREATE xdp)", "attaching the XDP hook to devices",
                attach.get(AttachType.XDP), "IFLA_XDP netlink (attach method netlink)"));
        out.add(new Requirement("map.prog_array", "prog arrays and tail calls", "the patch panel that chains instances",
                all(new Part("prog_array map", maps.get(MapType.PROG_ARRAY)),
                        new Part(Helper.TAIL_CALL.cName(), helper.of(ProgramType.SCHED_CLS, Helper.TAIL_CALL))),
                ""));
        out.add(new Requirement("map.ringbuf", "ring buffers (ringbuf maps)", "the slow path, module logs, capture",
                all(new Part("ringbuf map", maps.get(MapType.RINGBUF)),
                        new Part(Helper.RINGBUF_RESERVE.cName(),
                                helper.of(ProgramType.SCHED_CLS, Helper.RINGBUF_RESERVE))),
                ""));
        out.add(new Requirement("map.devmap_hash", "devmap_hash maps (XDP broadcast)", "flooding in the XDP hook",
                all(new Part("devmap_hash map", maps.get(MapType.DEVMAP_HASH)),
                        new Part(Helper.REDIRECT_MAP.cName(), helper.of(ProgramType.XDP, Helper.REDIRECT_MAP))),
                "the tc hook (the default)"));
        List<Part> common = new ArrayList<>();
        for (MapType t : List.of(MapType.ARRAY, MapType.PERCPU_ARRAY, MapType.HASH, MapType.PERCPU_HASH,
                MapType.LRU_HASH, MapType.LPM_TRIE, MapType.ARRAY_OF_MAPS)) {
            common.add(new Part(t.kernelName(), maps.get(t)));
        }
        out.add(new Requirement("maps.tables", "table map types (" + common.size() + ")",
                "the engine's and modules' tables: " + String.join(", ", common.stream().map(Part::name).toList()),
                all(common.toArray(Part[]::new)), ""));
        out.add(new Requirement("xdp.metadata", "XDP metadata (bpf_xdp_adjust_meta)",
                "the XDP hook: per-packet metadata from one instance to the next", Features.xdpMetadata(),
                "per-CPU scratch metadata channel"));
        out.add(new Requirement("xdp.live_frames", "XDP live frames (BPF_F_TEST_XDP_LIVE_FRAMES)",
                "the benches' packet generator (pps_gen)", Features.xdpLiveFrames(),
                "AF_PACKET generator in the benches"));
        out.add(new Requirement("tc.redirect_peer", "bpf_redirect_peer in tc",
                "tc forwarding straight into a veth peer's namespace (every tc program of the SDK calls it)",
                helper.of(ProgramType.SCHED_CLS, Helper.REDIRECT_PEER), ""));
        for (HelperUse use : HelperUse.JVISOR) {
            List<Part> parts = new ArrayList<>();
            for (Helper h : use.helpers()) {
                parts.add(new Part(h.cName(), helper.of(use.type(), h)));
            }
            String who = use.program().equals("entry") ? "the engine's entry program" : "the " + use.program()
                    + " module";
            out.add(new Requirement("helpers." + use.program() + "." + use.hook(),
                    "helpers of " + who + " in " + use.hook() + " (" + use.helpers().size() + ")",
                    who + " at the " + use.hook() + " hook", allHelpers(parts),
                    use.type() == ProgramType.XDP ? "the tc hook (the default)" : ""));
        }
        return out;
    }

    private interface HelperProbe {
        Support of(ProgramType t, Helper h);
    }

    /** Supported when every part is; else the first refused part, named. */
    private static Support all(Part... parts) {
        for (Part p : parts) {
            if (!p.support().supported()) {
                Support s = p.support();
                return new Support(false, s.probed(), p.name() + ": " + s.detail(), s.errno(), s.hint());
            }
        }
        return Support.YES;
    }

    /** Supported when every helper is; else the refused ones named, with their distinct hints. */
    private static Support allHelpers(List<Part> parts) {
        List<String> missing = new ArrayList<>();
        Set<String> hints = new LinkedHashSet<>();
        int errno = 0;
        boolean probed = true;
        for (Part p : parts) {
            Support s = p.support();
            if (!s.supported()) {
                missing.add(p.name());
                if (!s.hint().isEmpty()) {
                    hints.add(s.hint());
                }
                errno = errno == 0 ? s.errno() : errno;
                probed &= s.probed();
            }
        }
        if (missing.isEmpty()) {
            return Support.YES;
        }
        return new Support(false, probed, "missing " + String.join(", ", missing), errno, String.join("; ", hints));
    }
}
