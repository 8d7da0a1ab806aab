package io.jvisor.net;

import java.net.InetAddress;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * A neighbour (ARP or NDP) entry (RTM_NEWNEIGH).
 *
 * @param ifindex the interface
 * @param address the neighbour's IP address
 * @param mac its link-layer address, if known
 * @param state the NUD_* states
 * @param flags the NTF_* flags
 */
public record Neighbour(int ifindex, InetAddress address, Optional<MacAddress> mac, Set<State> state, int flags) {
    /** Copies the state set. */
    public Neighbour {
        state = Set.copyOf(state);
    }

    /** Neighbour unreachability detection states, named as {@code ip neigh} prints them. */
    public enum State {
        /** Resolution in progress. */
        INCOMPLETE(0x01),
        /** Confirmed reachable. */
        REACHABLE(0x02),
        /** Valid but unconfirmed. */
        STALE(0x04),
        /** Waiting before probing. */
        DELAY(0x08),
        /** Probing. */
        PROBE(0x10),
        /** Resolution failed. */
        FAILED(0x20),
        /** No resolution needed on this device. */
        NOARP(0x40),
        /** Static entry, never expires. */
        PERMANENT(0x80);

        private final int bit;

        State(int bit) {
            this.bit = bit;
        }

        /** The NUD_* bit. */
        public int bit() {
            return bit;
        }

        /** The states set in {@code bits}. */
        public static Set<State> of(int bits) {
            EnumSet<State> s = EnumSet.noneOf(State.class);
            for (State st : values()) {
                if ((bits & st.bit) != 0) {
                    s.add(st);
                }
            }
            return s;
        }
    }
}
