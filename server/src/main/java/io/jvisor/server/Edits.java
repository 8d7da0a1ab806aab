package io.jvisor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestReader;

import java.util.ArrayList;
import java.util.List;

/**
 * Edits of the applied manifest that the instance, connection and attachment resources make; each
 * result is applied as a whole, like a new topology file.
 */
final class Edits {
    private Edits() {}

    /** Adds or replaces instance {@code name}: body {@code {type, config}}. */
    static Manifest putInstance(Manifest m, String name, JsonNode body) {
        ObjectNode inst = object(body, "type", "config");
        inst.put("name", name);
        ObjectNode tree = ManifestReader.toTree(m);
        com.fasterxml.jackson.databind.node.ArrayNode list = (com.fasterxml.jackson.databind.node.ArrayNode) tree
                .withObjectProperty("spec").withArrayProperty("instances");
        boolean replaced = false;
        for (int i = 0; i < list.size(); i++) {
            if (name.equals(list.get(i).path("name").asText())) {
                list.set(i, inst);
                replaced = true;
            }
        }
        if (!replaced) {
            list.add(inst);
        }
        return ManifestReader.fromTree(tree);
    }

    /** Removes instance {@code name} and every wire to it. */
    static Manifest deleteInstance(Manifest m, String name) {
        if (m.spec().instances().stream().noneMatch(i -> i.name().equals(name))) {
            throw new ApiException(404, "instance", name, "no such instance");
        }
        List<Manifest.Instance> is = new ArrayList<>(m.spec().instances());
        is.removeIf(i -> i.name().equals(name));
        List<Manifest.Connection> cs = new ArrayList<>(m.spec().connections());
        cs.removeIf(c -> instanceOf(c.a()).equals(name) || instanceOf(c.b()).equals(name));
        List<Manifest.Attachment> as = new ArrayList<>(m.spec().attachments());
        as.removeIf(a -> instanceOf(a.port()).equals(name));
        return m.withSpec(m.spec().with(m.spec().hosts(), is, cs, as));
    }

    /** Adds a connection: body {@code {a, b}}. */
    static Manifest addConnection(Manifest m, JsonNode body) {
        ObjectNode c = object(body, "a", "b");
        ObjectNode tree = ManifestReader.toTree(m);
        tree.withObjectProperty("spec").withArrayProperty("connections").add(c);
        return ManifestReader.fromTree(tree);
    }

    /** Removes the connection with end {@code endpoint}. */
    static Manifest deleteConnection(Manifest m, String endpoint) {
        List<Manifest.Connection> cs = new ArrayList<>(m.spec().connections());
        if (!cs.removeIf(c -> endpoint.equals(c.a()) || endpoint.equals(c.b()))) {
            throw new ApiException(404, "connection", endpoint, "no connection has this end");
        }
        return m.withSpec(m.spec().with(m.spec().hosts(), m.spec().instances(), cs, m.spec().attachments()));
    }

    /** Adds an attachment: body {@code {port, host | device, netns}}. */
    static Manifest addAttachment(Manifest m, JsonNode body) {
        ObjectNode a = object(body, "port", "host", "device", "netns");
        ObjectNode tree = ManifestReader.toTree(m);
        tree.withObjectProperty("spec").withArrayProperty("attachments").add(a);
        return ManifestReader.fromTree(tree);
    }

    /** Removes the attachment of instance port {@code port}. */
    static Manifest deleteAttachment(Manifest m, String port) {
        List<Manifest.Attachment> as = new ArrayList<>(m.spec().attachments());
        if (!as.removeIf(a -> port.equals(a.port()))) {
            throw new ApiException(404, "attachment", port, "no attachment on this port");
        }
        return m.withSpec(m.spec().with(m.spec().hosts(), m.spec().instances(), m.spec().connections(), as));
    }

    private static String instanceOf(String endpoint) {
        if (endpoint == null) {
            return "";
        }
        int colon = endpoint.lastIndexOf(':');
        return colon < 0 ? endpoint : endpoint.substring(0, colon);
    }

    private static ObjectNode object(JsonNode body, String... keys) {
        if (!body.isObject()) {
            throw new ApiException(400, "(body)", body.toString(), "must be an object with keys " + List.of(keys));
        }
        List<String> known = List.of(keys);
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new ApiException(400, k, null, "unknown field (known: " + String.join(", ", known) + ")");
            }
        }
        return ((ObjectNode) body).deepCopy();
    }
}
