package io.jvisor.modules.bridge;

import io.jvisor.modules.Expected;
import io.jvisor.modules.Wire;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A reference model of the bridge's decision, written from docs/bridge.md (not from bridge.c): given
 * the configuration, the FDB and a frame on a port, what leaves which port, or why the frame is
 * dropped. It learns as the bridge does, so that a sequence of frames can be checked.
 *
 * <p>Decisions the docs leave open, as the model (and docs/bridge.md, since this test) has them: a
 * frame whose 802.1Q tag is cut short is dropped as a VLAN drop; a frame leaving a trunk tagged
 * carries the VLAN id only (priority and DEI bits are not kept); a frame with an 802.1ad (S-VLAN) tag
 * counts as tagged, so access ports and trunks drop it; with two 802.1Q tags the outer one is the
 * frame's VLAN and the inner one stays part of the frame.
 */
public final class BridgeModel {
    public static final int DROP_HAIRPIN = 256;
    public static final int DROP_RUNT = 257;
    public static final int DROP_VLAN = 258;
    public static final int DROP_NOT_MEMBER = 259;

    /** A port's VLAN mode; {@code nativeVlan} 0 when a trunk has none. */
    public record PortMode(boolean trunk, int pvid, Set<Integer> allowed) {
        public static PortMode access(int vlan) {
            return new PortMode(false, vlan, Set.of());
        }

        public static PortMode trunk(int nativeVlan, Integer... allowed) {
            return new PortMode(true, nativeVlan, Set.of(allowed));
        }

        /** -1 the VLAN does not leave here, 0 it leaves untagged, 1 tagged. */
        int egress(int vlan) {
            if (!trunk) {
                return pvid == vlan ? 0 : -1;
            }
            if (pvid != 0 && vlan == pvid) {
                return 0;
            }
            return allowed.contains(vlan) ? 1 : -1;
        }
    }

    private record Key(int vlan, long mac) {}

    private record Learned(int port, boolean aged) {}

    private final Set<Integer> connected;
    private final Map<Integer, PortMode> modes; // empty: no VLANs
    private final Map<Key, Integer> statics = new HashMap<>();
    private final Map<Key, Learned> learned = new HashMap<>();

    /**
     * @param connected the ports connected to something
     * @param modes the VLAN modes of the configured ports; empty for a bridge without VLANs
     */
    public BridgeModel(Set<Integer> connected, Map<Integer, PortMode> modes) {
        this.connected = new TreeSet<>(connected);
        this.modes = Map.copyOf(modes);
    }

    public boolean vlans() {
        return !modes.isEmpty();
    }

    private PortMode mode(int port) {
        return modes.getOrDefault(port, PortMode.access(1)); // docs: unconfigured ports are access ports in VLAN 1
    }

    public void addStatic(long mac, int vlan, int port) {
        statics.put(new Key(vlan, mac), port);
        learned.remove(new Key(vlan, mac));
    }

    /** Marks a learned entry as older than the aging time (the test ages it in the kernel too). */
    public boolean age(long mac, int vlan) {
        Key k = new Key(vlan, mac);
        Learned l = learned.get(k);
        if (l == null) {
            return false;
        }
        learned.put(k, new Learned(l.port(), true));
        return true;
    }

    /** Whether the learned entry for (mac, vlan) has been aged. */
    public boolean isAged(long mac, int vlan) {
        Learned l = learned.get(new Key(vlan, mac));
        return l != null && l.aged();
    }

    /** The learned (vlan, mac, port) entries. */
    public List<long[]> learnedEntries() {
        List<long[]> out = new ArrayList<>();
        learned.forEach((k, v) -> out.add(new long[] {k.vlan(), k.mac(), v.port()}));
        return out;
    }

    /** What the bridge does with {@code frame} arriving on {@code in}; updates the FDB as the bridge does. */
    public Expected receive(int in, byte[] frame) {
        if (frame.length < 14) {
            return Expected.drop(DROP_RUNT, "shorter than an Ethernet header");
        }
        int vlan = 0;
        byte[] f = frame;
        if (vlans()) {
            PortMode m = mode(in);
            int type = Wire.u16(f, 12);
            if (type == Wire.ETH_P_8021AD) {
                return Expected.drop(DROP_VLAN, "802.1ad tag");
            }
            if (type == Wire.ETH_P_8021Q) {
                if (f.length < 18) {
                    return Expected.drop(DROP_VLAN, "802.1Q tag cut short");
                }
                int vid = Wire.u16(f, 14) & 0xfff;
                if (!m.trunk()) {
                    return Expected.drop(DROP_VLAN, "tagged frame on an access port");
                }
                if (vid == 0) {
                    return Expected.drop(DROP_VLAN, "priority tag on a trunk");
                }
                if (!m.allowed().contains(vid)) {
                    return Expected.drop(DROP_VLAN, "VLAN " + vid + " not allowed on trunk port " + in);
                }
                vlan = vid;
                f = Wire.popTag(f);
            } else {
                if (m.pvid() == 0) {
                    return Expected.drop(DROP_VLAN, "untagged on a trunk without a native VLAN");
                }
                vlan = m.pvid();
            }
        }
        long dst = Wire.macValue(f, 0), src = Wire.macValue(f, 6);
        if (!Wire.isGroup(src)) {
            Key k = new Key(vlan, src);
            if (!statics.containsKey(k)) {
                learned.put(k, new Learned(in, false));
            }
        }
        Integer out = null;
        String why;
        if (Wire.isGroup(dst)) {
            why = "group destination";
        } else {
            Key k = new Key(vlan, dst);
            out = statics.get(k);
            why = out != null ? "static entry" : "unknown unicast";
            if (out == null) {
                Learned l = learned.get(k);
                if (l != null && l.aged()) {
                    learned.remove(k);
                    why = "aged entry";
                } else if (l != null) {
                    out = l.port();
                    why = "learned entry";
                }
            }
        }
        if (out == null) {
            List<Expected.Emitted> copies = new ArrayList<>();
            for (int p : connected) {
                if (p == in) {
                    continue;
                }
                if (!vlans()) {
                    copies.add(new Expected.Emitted(p, f));
                    continue;
                }
                int how = mode(p).egress(vlan);
                if (how >= 0) {
                    copies.add(new Expected.Emitted(p, how == 1 ? Wire.pushTag(f, Wire.ETH_P_8021Q, vlan) : f));
                }
            }
            if (vlans() && copies.isEmpty()) {
                return Expected.drop(DROP_NOT_MEMBER, "flood in VLAN " + vlan + " has no member port");
            }
            return Expected.flood(copies, why + ", VLAN " + vlan);
        }
        if (out == in) {
            return Expected.drop(DROP_HAIRPIN, "destination on the ingress port (" + why + ")");
        }
        if (!vlans()) {
            return Expected.forward(out, f, why);
        }
        int how = mode(out).egress(vlan);
        if (how < 0) {
            return Expected.drop(DROP_NOT_MEMBER, "port " + out + " not in VLAN " + vlan + " (" + why + ")");
        }
        return Expected.forward(out, how == 1 ? Wire.pushTag(f, Wire.ETH_P_8021Q, vlan) : f, why + ", VLAN " + vlan);
    }
}
