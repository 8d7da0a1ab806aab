package io.jvisor.bpf.features;

import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;

import java.util.List;

import static io.jvisor.bpf.asm.Helper.*;

/**
 * The helpers one of jvisor's own programs calls at one hook, as its compiled object calls them.
 * {@link #JVISOR} lists them for the engine's entry program and every standard module; a test in the
 * modules layer compiles each and checks this table against the call instructions, so the table
 * cannot drift from the C.
 *
 * @param program {@code entry} (the engine's entry program) or a standard module's type name
 * @param type the hook's program type: {@link ProgramType#SCHED_CLS} (tc) or {@link ProgramType#XDP}
 * @param helpers the helpers its program at that hook calls
 */
public record HelperUse(String program, ProgramType type, List<Helper> helpers) {
    public HelperUse {
        helpers = List.copyOf(helpers);
    }

    /** The hook's short name: {@code tc} or {@code xdp}. */
    public String hook() {
        return type == ProgramType.XDP ? "xdp" : "tc";
    }

    private static final List<Helper> SDK = List.of(MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, TAIL_CALL, REDIRECT);
    private static final List<Helper> TC_OUT = List.of(SKB_CHANGE_TYPE, REDIRECT_PEER);
    private static final List<Helper> RING = List.of(RINGBUF_RESERVE, RINGBUF_SUBMIT);

    /**
     * jvisor's programs and their helpers. The entry program's bpf_xdp_adjust_meta is not listed: it is
     * the {@code xdp.metadata} requirement, which has a fallback.
     */
    public static final List<HelperUse> JVISOR = List.of(
            // the entry object holds the engine-wide flood programs too (jv_flood_tc, jv_flood_xdp)
            tc("entry", SDK, TC_OUT, List.of(CLONE_REDIRECT)),
            xdp("entry", SDK, List.of(REDIRECT_MAP)),
            tc("bridge", SDK, TC_OUT, List.of(MAP_DELETE_ELEM, CLONE_REDIRECT, SKB_VLAN_PUSH, SKB_VLAN_POP, JIFFIES64)),
            xdp("bridge", SDK, List.of(MAP_DELETE_ELEM, JIFFIES64)),
            tc("capture", SDK, TC_OUT, List.of(KTIME_GET_NS, SKB_LOAD_BYTES, RINGBUF_OUTPUT)),
            xdp("capture", SDK, List.of(KTIME_GET_NS, RINGBUF_OUTPUT, XDP_GET_BUFF_LEN, XDP_LOAD_BYTES)),
            tc("ddos", SDK, TC_OUT, List.of(KTIME_GET_NS)),
            xdp("ddos", SDK, List.of(KTIME_GET_NS)),
            tc("firewall", SDK, TC_OUT, RING, List.of(MAP_DELETE_ELEM, KTIME_GET_NS, SNPRINTF, LOOP)),
            xdp("firewall", SDK, RING, List.of(MAP_DELETE_ELEM, KTIME_GET_NS, SNPRINTF, LOOP)),
            tc("lb", SDK, TC_OUT, RING, List.of(KTIME_GET_NS, L4_CSUM_REPLACE, SKB_LOAD_BYTES,
                    SKB_ADJUST_ROOM, JIFFIES64)),
            xdp("lb", SDK, RING, List.of(KTIME_GET_NS, XDP_ADJUST_HEAD, JIFFIES64, XDP_LOAD_BYTES)),
            tc("nat", SDK, TC_OUT, List.of(MAP_DELETE_ELEM, KTIME_GET_NS, GET_PRANDOM_U32, L4_CSUM_REPLACE)),
            xdp("nat", SDK, List.of(MAP_DELETE_ELEM, KTIME_GET_NS, GET_PRANDOM_U32)),
            tc("router", SDK, TC_OUT, RING, List.of(SKB_LOAD_BYTES)),
            xdp("router", SDK, RING, List.of(XDP_LOAD_BYTES)));

    @SafeVarargs
    private static HelperUse tc(String program, List<Helper>... parts) {
        return new HelperUse(program, ProgramType.SCHED_CLS, join(parts));
    }

    @SafeVarargs
    private static HelperUse xdp(String program, List<Helper>... parts) {
        return new HelperUse(program, ProgramType.XDP, join(parts));
    }

    @SafeVarargs
    private static List<Helper> join(List<Helper>... parts) {
        java.util.EnumSet<Helper> all = java.util.EnumSet.noneOf(Helper.class);
        for (List<Helper> p : parts) {
            all.addAll(p);
        }
        return List.copyOf(all);
    }
}
