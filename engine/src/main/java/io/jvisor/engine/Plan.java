package io.jvisor.engine;

import java.util.List;

/**
 * What an apply does, in the order it does it. Printed, it reads as a diff: {@code +} creates,
 * {@code ~} changes, {@code -} removes.
 *
 * @param changes the changes
 */
public record Plan(List<Change> changes) {
    public Plan {
        changes = List.copyOf(changes);
    }

    /** True when the kernel already matches the topology. */
    public boolean isEmpty() {
        return changes.isEmpty();
    }

    /** One change. */
    public sealed interface Change {
        /** The diff line. */
        String line();
    }

    /** A new instance is loaded into a free patch-panel slot. */
    public record CreateInstance(String name, String type, String codeHash) implements Change {
        @Override
        public String line() {
            return "+ instance " + name + " (" + type + ", code " + codeHash + ")";
        }
    }

    /** An instance's code is replaced live; its maps are kept. */
    public record SwapInstance(String name, String type, String oldHash, String newHash) implements Change {
        @Override
        public String line() {
            return "~ instance " + name + " (" + type + ") code " + oldHash + " -> " + newHash;
        }
    }

    /** An instance's configuration changes; its control plane is restarted with the new one. */
    public record Reconfigure(String name) implements Change {
        @Override
        public String line() {
            return "~ instance " + name + " configuration";
        }
    }

    /** An instance is removed. */
    public record DeleteInstance(String name) implements Change {
        @Override
        public String line() {
            return "- instance " + name;
        }
    }

    /** A port's peer is set or changed. */
    public record SetPeer(Endpoint.Port port, Endpoint peer, Endpoint oldPeer) implements Change {
        @Override
        public String line() {
            return (oldPeer == null ? "+ " : "~ ") + "port " + port + " -> " + peer
                    + (oldPeer == null ? "" : " (was " + oldPeer + ")");
        }
    }

    /** A port loses its peer. */
    public record ClearPeer(Endpoint.Port port, Endpoint oldPeer) implements Change {
        @Override
        public String line() {
            return "- port " + port + " -> " + oldPeer;
        }
    }

    /** A device's received packets are sent into an instance port (or to another one). */
    public record AttachDevice(Endpoint.Device device, Endpoint.Port port, Endpoint.Port oldPort) implements Change {
        @Override
        public String line() {
            return (oldPort == null ? "+ " : "~ ") + device + " => " + port + (oldPort == null ? "" : " (was " + oldPort + ")");
        }
    }

    /** A device is no longer connected. */
    public record DetachDevice(Endpoint.Device device, Endpoint.Port oldPort) implements Change {
        @Override
        public String line() {
            return "- " + device + " => " + oldPort;
        }
    }

    @Override
    public String toString() {
        if (changes.isEmpty()) {
            return "no changes";
        }
        StringBuilder sb = new StringBuilder();
        for (Change c : changes) {
            sb.append(c.line()).append('\n');
        }
        return sb.toString();
    }
}
