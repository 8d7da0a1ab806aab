package io.jvisor.engine;

/** One end of a connection: a port of an instance, or a network device. */
public sealed interface Endpoint permits Endpoint.Port, Endpoint.Device {
    /**
     * A port of an instance.
     *
     * @param instance the instance's name
     * @param port the port number
     */
    record Port(String instance, int port) implements Endpoint {
        public Port {
            if (port < 0 || port >= Sdk.MAX_PORTS) {
                throw new IllegalArgumentException("port " + port + " of " + instance + " is out of range 0.."
                        + (Sdk.MAX_PORTS - 1));
            }
        }

        @Override
        public String toString() {
            return instance + ":" + port;
        }
    }

    /**
     * A network device.
     *
     * @param netns the named namespace it lives in, or null for the engine's own namespace
     * @param name the device name
     */
    record Device(String netns, String name) implements Endpoint {
        @Override
        public String toString() {
            return "dev:" + (netns == null ? "" : netns + "/") + name;
        }
    }

    /** Parses {@code instance:port}, {@code dev:name} or {@code dev:netns/name}. */
    static Endpoint parse(String text) {
        if (text.startsWith("dev:")) {
            String d = text.substring(4);
            int slash = d.indexOf('/');
            return slash < 0 ? new Device(null, d) : new Device(d.substring(0, slash), d.substring(slash + 1));
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not an endpoint: '" + text + "' (want instance:port or dev:[netns/]name)");
        }
        try {
            return new Port(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an endpoint: '" + text + "': the port is not a number");
        }
    }
}
