package io.jvisor.server;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.type.TypeReference;
import io.jvisor.engine.ConfigKey;
import io.jvisor.engine.Endpoint;
import io.jvisor.engine.Engine;
import io.jvisor.engine.ModuleType;
import io.jvisor.net.Link;
import io.jvisor.server.manifest.Manifest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The bodies the routes send, one record each, in the order their members appear on the wire (the
 * OpenAPI document describes them). Each is built from what it shows, with nothing else in between.
 */
final class Responses {
    private Responses() {
    }

    /** {@code GET /v1/health}. */
    record Health(String status, String engine) {
        static Health ok(String engine) {
            return new Health("ok", engine);
        }
    }

    /** {@code GET /v1/status}: the engine, where it keeps its state, and the topology it runs. */
    record Status(String engine, String stateDir, String pinRoot, String attach, String topology, int instances,
                  String labPrefix, Map<String, String> hostNamespaces, long applies, long pid) {
        static Status of(DaemonOptions options, Controller controller) {
            Manifest m = controller.manifest();
            Map<String, String> ns = new LinkedHashMap<>();
            if (m != null) {
                m.spec().hosts().forEach(h -> ns.put(h.name(), controller.hostNamespace(h.name())));
            }
            return new Status(options.engine().name(), options.engine().stateDir().toString(),
                    options.engine().pinRoot().toString(),
                    controller.engine().attachMethod().name().toLowerCase(Locale.ROOT), m == null ? null : m.name(),
                    m == null ? 0 : m.spec().instances().size(), controller.labPrefix(), ns, controller.applies(),
                    ProcessHandle.current().pid());
        }
    }

    /** {@code GET /v1/types/{name}}: a module type and the configuration it takes. */
    record ModuleTypeView(String name, int ports, String codeHash, ConfigSchema configSchema) {
        static ModuleTypeView of(ModuleType t) {
            ConfigSchema schema;
            if (!t.configKeys().isEmpty()) {
                schema = new ConfigSchema.Keys(t.configKeys().stream().map(ConfigKeyView::of).toList());
            } else if (t.configSchema() != null) {
                Map<String, String> keys = new LinkedHashMap<>();
                for (var rc : t.configSchema().getRecordComponents()) {
                    keys.put(rc.getName(), rc.getType().getSimpleName());
                }
                schema = new ConfigSchema.RecordKeys(keys);
            } else {
                schema = new ConfigSchema.FreeForm();
            }
            return new ModuleTypeView(t.name(), t.ports(), t.code().hash(), schema);
        }

        /** As a map, for callers that print it without a daemon ({@link Daemon#types}). */
        Map<String, Object> asMap() {
            return Exchange.JSON.convertValue(this, new TypeReference<LinkedHashMap<String, Object>>() { });
        }
    }

    /** How a module type's configuration is described: declared keys, a record's components, or nothing. */
    sealed interface ConfigSchema {
        /** {@code keys}, {@code record} or {@code free-form}. */
        String type();

        /** Keys the module declares ({@link ModuleType#configKeys()}). */
        record Keys(String type, List<ConfigKeyView> keys) implements ConfigSchema {
            Keys(List<ConfigKeyView> keys) {
                this("keys", keys);
            }
        }

        /** The components of the module's configuration record, by name and type. */
        record RecordKeys(String type, Map<String, String> keys) implements ConfigSchema {
            RecordKeys(Map<String, String> keys) {
                this("record", keys);
            }
        }

        /** No keys declared. */
        record FreeForm(String type, String description) implements ConfigSchema {
            FreeForm() {
                this("free-form", "no keys declared; flat keys checked by the module's own validation (see "
                        + "docs/modules.md)");
            }
        }
    }

    /** One declared configuration key (the OpenAPI document's {@code ConfigKey}, member for member). */
    @JsonPropertyOrder({"pattern", "syntax", "default", "required", "description"})
    record ConfigKeyView(String pattern, String syntax, @JsonProperty("default") String defaultValue,
                         boolean required, String description) {
        static ConfigKeyView of(ConfigKey k) {
            return new ConfigKeyView(k.pattern(), k.syntax(), k.defaultValue(), k.required(), k.description());
        }
    }

    /**
     * {@code GET /v1/instances/{name}}: an instance as the manifest declares it, what each port connects
     * to, and its program's id (null when the kernel cannot say).
     */
    record InstanceView(String name, String type, Map<String, String> config, Map<String, String> ports,
                        Integer programId) {
        static InstanceView of(Manifest.Instance i, Engine engine) {
            Map<String, String> ports = new TreeMap<>();
            for (var c : engine.topology().connections()) {
                if (c.a().instance().equals(i.name())) {
                    ports.put(Integer.toString(c.a().port()), c.b().toString());
                }
                if (c.b() instanceof Endpoint.Port p && p.instance().equals(i.name())) {
                    ports.put(Integer.toString(p.port()), c.a().toString());
                }
            }
            Integer id;
            try {
                id = engine.programId(i.name());
            } catch (RuntimeException e) {
                id = null;
            }
            return new InstanceView(i.name(), i.type(), i.config(), ports, id);
        }
    }

    /** {@code GET /v1/hosts}: a lab host and the namespace it runs in. */
    record HostView(String name, String netns, List<Manifest.Interface> interfaces, String gateway) {
        static List<HostView> of(Controller controller) {
            List<HostView> out = new ArrayList<>();
            Manifest m = controller.manifest();
            if (m != null) {
                for (Manifest.Host h : m.spec().hosts()) {
                    out.add(new HostView(h.name(), controller.hostNamespace(h.name()), h.interfaces(), h.gateway()));
                }
            }
            return out;
        }
    }

    /** {@code GET /v1/devices}: a network device of the daemon's namespace. */
    record DeviceView(String name, int ifindex, String kind, int mtu, boolean up, String mac) {
        static DeviceView of(Link l) {
            return new DeviceView(l.name(), l.ifindex(), l.kind(), l.mtu(), l.isUp(),
                    l.mac().map(Object::toString).orElse(null));
        }

        /** As a map, for callers that print it without a daemon ({@link Daemon#devices}). */
        Map<String, Object> asMap() {
            return Exchange.JSON.convertValue(this, new TypeReference<LinkedHashMap<String, Object>>() { });
        }
    }

    /** {@code GET /v1/instances/{name}/tables/{table}}: the table and its first entries. */
    record TableView(Tables.Info table, List<Tables.Entry> entries) {
    }

    /** The data of one event on {@code /v1/events}. */
    record EventView(String type, String subject, Map<String, Object> detail, String time) {
        static EventView of(ChangeEvent e) {
            return new EventView(e.type(), e.subject(), e.detail(), e.time().toString());
        }
    }
}
