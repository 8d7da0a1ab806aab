package io.jvisor.engine;

import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfKind;
import io.jvisor.bpf.btf.BtfType;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectMap;
import io.jvisor.bpf.toolchain.Clang;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Sdk} agrees with the C SDK ({@code jvisor/module.h}) as clang compiles it: the engine's
 * entry program ({@code entry.c}), with a declaration appended that puts every shared struct, enum
 * and limit into its BTF (the entry program itself only uses some of them). The comparison is by
 * name: each enumerator {@code JV_<PREFIX><NAME>} is the int constant {@code Sdk.<PREFIX><NAME>};
 * each struct member {@code name} is the constant {@code NAME} of the struct's {@code *Layout} class,
 * its byte offset, and {@code SIZE} is the struct's size. A member or enumerator added, removed,
 * renamed or moved in C fails here, naming what {@link Sdk} must change. No kernel.
 */
class SdkTest {
    /** Java layout class to C struct. */
    private static final Map<Class<?>, String> STRUCTS = new LinkedHashMap<>();
    /** Prefix of int constants in {@link Sdk} to the C enum whose enumerators are {@code JV_<prefix>...}. */
    private static final Map<String, String> ENUMS = new LinkedHashMap<>();
    /** {@link Sdk} constant to the C limit (a #define, which BTF carries as an array length here). */
    private static final Map<String, String> LIMITS = new LinkedHashMap<>();

    static {
        STRUCTS.put(Sdk.MdLayout.class, "jv_md");
        STRUCTS.put(Sdk.PeerLayout.class, "jv_peer");
        STRUCTS.put(Sdk.PortStatsLayout.class, "jv_port_stats");
        STRUCTS.put(Sdk.DropKeyLayout.class, "jv_drop_key");
        STRUCTS.put(Sdk.PacketInLayout.class, "jv_packet_in");
        STRUCTS.put(Sdk.LogLineLayout.class, "jv_log_line");
        ENUMS.put("DROP_", "jv_drop_reason");
        ENUMS.put("PEER_", "jv_peer_kind");
        ENUMS.put("DEV_F_", "jv_dev_flags");
        ENUMS.put("HOOK_", "jv_hook");
        ENUMS.put("XDP_MD_", "jv_xdp_md_channel");
        ENUMS.put("SVC_", "jv_service");
        LIMITS.put("MAX_PORTS", "JV_MAX_PORTS");
        LIMITS.put("MAX_SLOTS", "JV_MAX_SLOTS");
        LIMITS.put("SNAPLEN", "JV_SNAPLEN");
        LIMITS.put("LOG_LEN", "JV_LOG_LEN");
        LIMITS.put("MAX_TAIL_CALLS", "JV_MAX_TAIL_CALLS");
    }

    private static CollectionSpec entry;
    private static CollectionSpec abi;

    @BeforeAll
    static void compile() throws Exception {
        Clang clang = Clang.find();
        String source = ModuleCode.resource(Engine.class, "entry.c").source();
        entry = ObjectFile.read(clang.compileString(source, "entry.c", List.of()).object());
        StringBuilder anchor = new StringBuilder("\n/* SdkTest: BTF for every layout the engine shares with module.h */\n")
                .append("struct jv_sdk_abi {\n");
        STRUCTS.values().forEach(s -> anchor.append("\tstruct ").append(s).append(" s_").append(s).append(";\n"));
        ENUMS.values().forEach(e -> anchor.append("\tenum ").append(e).append(" e_").append(e).append(";\n"));
        LIMITS.values().forEach(l -> anchor.append("\tchar l_").append(l).append('[').append(l).append("];\n"));
        anchor.append("};\nstruct jv_sdk_abi jv_sdk_abi;\n");
        abi = ObjectFile.read(clang.compileString(source + anchor, "entry_abi.c", List.of()).object());
    }

    /** Each member of the struct, anonymous unions and structs flattened as C does, to its byte offset. */
    private static Map<String, Integer> members(Btf btf, String struct) {
        int id = btf.find(BtfKind.STRUCT, struct).orElseThrow(() -> new AssertionError("no struct " + struct + " in BTF"));
        Map<String, Integer> out = new TreeMap<>();
        flatten(btf, (BtfType.Struct) btf.type(id), 0, out);
        out.put("SIZE", ((BtfType.Struct) btf.type(id)).size());
        return out;
    }

    private static void flatten(Btf btf, BtfType aggregate, int base, Map<String, Integer> out) {
        List<BtfType.Member> ms = switch (aggregate) {
            case BtfType.Struct s -> s.members();
            case BtfType.Union u -> u.members();
            default -> List.of();
        };
        for (BtfType.Member m : ms) {
            assertThat(m.bitfieldSize()).as("bit-field %s", m.name()).isZero();
            int offset = base + m.bitOffset() / 8;
            if (m.name().isEmpty()) {
                flatten(btf, btf.type(btf.skipQualifiers(m.type())), offset, out);
            } else {
                out.put(m.name().toUpperCase(Locale.ROOT), offset);
            }
        }
    }

    /** The public static int constants of a class whose names start with prefix, to their values. */
    private static Map<String, Integer> constants(Class<?> c, String prefix) {
        Map<String, Integer> out = new TreeMap<>();
        for (Field f : c.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isPublic(mod) && Modifier.isStatic(mod) && f.getType() == int.class && f.getName().startsWith(prefix)) {
                try {
                    out.put(f.getName(), f.getInt(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return out;
    }

    /** What Sdk must change for {@code java} to equal {@code c}, one line each; empty when they agree. */
    private static List<String> disagreements(String owner, Map<String, Integer> java, String what, Map<String, Integer> c) {
        List<String> out = new ArrayList<>();
        c.forEach((name, value) -> {
            Integer j = java.get(name);
            if (j == null) {
                out.add(what + " has " + name + " = " + value + ", but " + owner + "." + name + " is missing");
            } else if (!j.equals(value)) {
                out.add(owner + "." + name + " is " + j + ", but " + what + " has " + value);
            }
        });
        java.keySet().stream().filter(n -> !c.containsKey(n))
                .forEach(n -> out.add(owner + "." + n + " names nothing in " + what));
        return out;
    }

    @Test
    void everyLayoutClassMatchesItsStructMemberByMember() {
        List<String> problems = new ArrayList<>();
        STRUCTS.forEach((layout, struct) -> problems.addAll(disagreements("Sdk." + layout.getSimpleName(),
                constants(layout, ""), "struct " + struct, members(abi.btf(), struct))));
        assertThat(problems).as("Sdk versus module.h").isEmpty();
    }

    @Test
    void everyEnumConstantMatchesItsEnumeratorByName() {
        List<String> problems = new ArrayList<>();
        ENUMS.forEach((prefix, enumName) -> {
            int id = abi.btf().find(BtfKind.ENUM, enumName).orElseThrow(() -> new AssertionError("no enum " + enumName));
            Map<String, Integer> c = ((BtfType.Enum) abi.btf().type(id)).values().stream()
                    .collect(Collectors.toMap(v -> v.name().substring("JV_".length()), v -> (int) v.value(), (a, b) -> a,
                            TreeMap::new));
            assertThat(c.keySet()).as("enum %s", enumName).allMatch(n -> n.startsWith(prefix));
            problems.addAll(disagreements("Sdk", constants(Sdk.class, prefix), "enum " + enumName, c));
        });
        assertThat(problems).as("Sdk versus module.h").isEmpty();
    }

    @Test
    void everyLimitMatchesItsDefine() {
        int id = abi.btf().find(BtfKind.STRUCT, "jv_sdk_abi").orElseThrow();
        Map<String, Integer> c = new TreeMap<>();
        for (BtfType.Member m : ((BtfType.Struct) abi.btf().type(id)).members()) {
            if (m.name().startsWith("l_JV_")) {
                BtfType.Array a = (BtfType.Array) abi.btf().type(m.type());
                c.put(m.name().substring("l_JV_".length()), a.nelems());
            }
        }
        Map<String, Integer> java = new TreeMap<>();
        LIMITS.keySet().forEach(k -> java.put(k, constants(Sdk.class, k).get(k)));
        assertThat(disagreements("Sdk", java, "module.h", c)).isEmpty();
        assertThat(c).hasSize(LIMITS.size());
    }

    @Test
    void everyFrameworkDropReasonHasAName() {
        int id = abi.btf().find(BtfKind.ENUM, "jv_drop_reason").orElseThrow();
        List<String> names = new ArrayList<>();
        for (BtfType.EnumValue v : ((BtfType.Enum) abi.btf().type(id)).values()) {
            if (v.value() < Sdk.DROP_USER) {
                String name = Sdk.dropReasonName((int) v.value());
                assertThat(name).as("the name of %s", v.name()).doesNotStartWith("reason_");
                names.add(name);
            }
        }
        assertThat(names).doesNotHaveDuplicates().isNotEmpty();
    }

    @Test
    void theEntryObjectDefinesTheSharedMapsAndConstants() {
        List<String> shared = entry.maps().stream().filter(m -> m.kind() == ObjectMap.Kind.BTF).map(ObjectMap::name).toList();
        assertThat(shared).containsExactlyInAnyOrderElementsOf(Sdk.SHARED_MAPS);
        assertThat(entry.variables()).filteredOn(v -> v.section().startsWith(".rodata")).extracting(CollectionSpec.Variable::name)
                .contains(Sdk.SLOT_CONSTANT, Sdk.ENTRY_PORT_CONSTANT, Sdk.XDP_MD_CHANNEL_CONSTANT);
        // the entry object's maps are sized by the limits
        assertThat(entry.map("jv_patch_tc").orElseThrow().spec().maxEntries()).isEqualTo(Sdk.MAX_SLOTS);
        assertThat(entry.map("jv_ports").orElseThrow().spec().maxEntries()).isEqualTo(Sdk.MAX_SLOTS * Sdk.MAX_PORTS);
        assertThat(entry.map("jv_ports").orElseThrow().spec().valueSize()).isEqualTo(Sdk.PeerLayout.SIZE);
        assertThat(entry.map("jv_stats").orElseThrow().spec().valueSize()).isEqualTo(Sdk.PortStatsLayout.SIZE);
        assertThat(entry.map("jv_drops").orElseThrow().spec().keySize()).isEqualTo(Sdk.DropKeyLayout.SIZE);
        assertThat(entry.map("jv_xdp_scratch").orElseThrow().spec().valueSize()).isEqualTo(Sdk.MdLayout.SIZE);
        // and it describes the layouts it uses exactly as the appended declaration does
        for (String struct : List.of("jv_md", "jv_peer", "jv_port_stats", "jv_drop_key")) {
            assertThat(members(entry.btf(), struct)).as("struct %s", struct).isEqualTo(members(abi.btf(), struct));
        }
    }

    @Test
    void aChangedStructIsReportedAsWhatSdkMustChange() {
        // the check itself, on a struct jv_md whose second word is still the slot it had before the hop count
        Map<String, Integer> c = new TreeMap<>(Map.of("IN_PORT", 0, "INSTANCE", 4, "MARK", 8, "OUT_PORT", 12,
                "REASON", 16, "SIZE", 20));
        assertThat(disagreements("Sdk.MdLayout", constants(Sdk.MdLayout.class, ""), "struct jv_md", c))
                .containsExactly("struct jv_md has INSTANCE = 4, but Sdk.MdLayout.INSTANCE is missing",
                        "Sdk.MdLayout.HOPS names nothing in struct jv_md");
    }
}
