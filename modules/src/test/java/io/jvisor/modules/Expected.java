package io.jvisor.modules;

import java.util.ArrayList;
import java.util.List;

/**
 * What a reference model says a module does with one frame: the action, the drop or controller
 * reason, and every frame that leaves a port because of it, as it is on the wire (VLAN tags
 * included): the forwarded or flooded copies, or what the control plane sends in answer.
 *
 * @param action the module's action
 * @param reason the drop reason ({@code JV_DROP_USER + n} as 256 + n, framework reasons below 256) or
 *     the controller reason; 0 otherwise
 * @param frames the frames that leave, in any order
 * @param why a short explanation for failure messages
 */
public record Expected(Action action, int reason, List<Emitted> frames, String why) {
    /** A module's action. */
    public enum Action { FORWARD, FLOOD, DROP, CONTROLLER, PASS }

    /**
     * A frame leaving a port.
     *
     * @param port the module's port
     * @param wire the bytes on the wire, tags included
     * @param optional true when the model allows but does not require it (a rate limit at a time
     *     boundary)
     */
    public record Emitted(int port, byte[] wire, boolean optional) {
        public Emitted(int port, byte[] wire) {
            this(port, wire, false);
        }

        @Override
        public String toString() {
            return "port " + port + (optional ? " (optional)" : "") + ": " + Wire.hex(wire);
        }
    }

    public static Expected drop(int reason, String why) {
        return new Expected(Action.DROP, reason, List.of(), why);
    }

    public static Expected forward(int port, byte[] wire, String why) {
        return new Expected(Action.FORWARD, 0, List.of(new Emitted(port, wire)), why);
    }

    public static Expected flood(List<Emitted> copies, String why) {
        return new Expected(Action.FLOOD, 0, List.copyOf(copies), why);
    }

    public static Expected controller(int reason, List<Emitted> answers, String why) {
        return new Expected(Action.CONTROLLER, reason, List.copyOf(answers), why);
    }

    /** The required frames. */
    public List<Emitted> required() {
        List<Emitted> out = new ArrayList<>();
        for (Emitted e : frames) {
            if (!e.optional()) {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(action.toString());
        if (action == Action.DROP || action == Action.CONTROLLER) {
            s.append(" reason ").append(reason);
        }
        s.append(" (").append(why).append(")");
        for (Emitted e : frames) {
            s.append("\n      ").append(e);
        }
        return s.toString();
    }
}
