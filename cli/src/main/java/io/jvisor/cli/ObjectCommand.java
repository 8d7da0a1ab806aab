package io.jvisor.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.jvisor.bpf.LoadOptions;
import io.jvisor.bpf.MapSpec;
import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectMap;
import io.jvisor.bpf.elf.ObjectProgram;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jvisor object ...}: BPF object files, like {@code bpftool prog loadall} and {@code bpftool gen}. */
@Command(name = "object", mixinStandardHelpOptions = true, description = "Inspect and load BPF object files.",
        subcommands = {ObjectCommand.Inspect.class, ObjectCommand.Load.class})
public final class ObjectCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Output formats. */
    enum Format { text, json }

    /** {@code jvisor object inspect FILE.o}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true, description = "List the programs, maps and global data of an object file.")
    static final class Inspect implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "FILE.o", description = "The object file.")
        Path object;

        @CommandLine.Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
                description = "text or json (default: ${DEFAULT-VALUE}).")
        Format format;

        @Override
        public Integer call() throws JsonProcessingException {
            CollectionSpec s = ObjectFile.read(object);
            PrintWriter out = spec.commandLine().getOut();
            if (format == Format.json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(describe(s)));
            } else {
                out.print(text(s));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code jvisor object load FILE.o --pin DIR}. */
    @Command(name = "load", mixinStandardHelpOptions = true, description = "Load every program and map of an object into the kernel and pin them "
            + "under a bpffs directory.")
    static final class Load implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @CommandLine.Parameters(index = "0", paramLabel = "FILE.o", description = "The object file.")
        Path object;

        @CommandLine.Option(names = "--pin", paramLabel = "DIR", required = true,
                description = "The bpffs directory to pin programs and maps under (created if missing); maps "
                        + "declared with pinning = LIBBPF_PIN_BY_NAME are reused from it when already there.")
        Path pin;

        @CommandLine.Option(names = "--log-level", paramLabel = "N", defaultValue = "0",
                description = "Verifier log level 0-2; the log of a rejected program is always kept.")
        int logLevel;

        @CommandLine.Option(names = {"-c", "--constant"}, paramLabel = "NAME=VALUE",
                description = "Set a .rodata constant before load (repeatable); VALUE is a decimal or 0x number.")
        Map<String, String> constants = new LinkedHashMap<>();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            CollectionSpec s = ObjectFile.read(object);
            for (Map.Entry<String, String> c : constants.entrySet()) {
                s = s.withConstant(c.getKey(), Long.decode(c.getValue()));
            }
            CollectionOptions options = new CollectionOptions(LoadOptions.DEFAULT.withLogLevel(logLevel), Map.of(),
                    pin, null);
            try (Collection c = Collection.load(s, options)) {
                for (Path p : c.pinAll(pin)) {
                    out.println("pinned " + p);
                }
                c.programs().forEach((name, prog) -> out.println("program " + name + " id " + prog.id()));
                c.maps().forEach((name, map) -> out.println("map " + name + " id " + map.id()));
            }
            out.flush();
            return 0;
        }
    }

    static Map<String, Object> describe(CollectionSpec s) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("object", s.name());
        root.put("license", s.license());
        List<Object> programs = new ArrayList<>();
        for (ObjectProgram p : s.programs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("section", p.section().section());
            m.put("type", p.spec().type().kernelName());
            m.put("attachType", p.spec().expectedAttachType() == null ? null : p.spec().expectedAttachType().kernelName());
            m.put("instructions", p.instructionCount());
            m.put("lineInfo", p.lineInfo().size());
            programs.add(m);
        }
        root.put("programs", programs);
        List<Object> maps = new ArrayList<>();
        for (ObjectMap om : s.maps()) {
            maps.add(describe(om, s.btf()));
        }
        root.put("maps", maps);
        List<Object> globals = new ArrayList<>();
        for (CollectionSpec.Variable v : s.variables()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("section", v.section());
            m.put("name", v.name());
            m.put("offset", v.offset());
            m.put("size", v.size());
            m.put("type", v.type());
            globals.add(m);
        }
        root.put("globals", globals);
        return root;
    }

    private static Map<String, Object> describe(ObjectMap om, Btf btf) {
        MapSpec ms = om.spec();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", om.name());
        m.put("kernelName", ms.name());
        m.put("kind", om.kind().name().toLowerCase());
        m.put("type", ms.type().kernelName());
        m.put("keySize", ms.keySize());
        m.put("valueSize", ms.valueSize());
        m.put("keyType", typeName(btf, om.btfKeyTypeId()));
        m.put("valueType", typeName(btf, om.btfValueTypeId()));
        m.put("maxEntries", ms.maxEntries());
        m.put("flags", ms.flags());
        m.put("pinning", om.pinning() == ObjectMap.Pinning.BY_NAME ? "by_name" : "none");
        if (ms.innerMap() != null) {
            MapSpec in = ms.innerMap();
            m.put("innerMap", Map.of("type", in.type().kernelName(), "keySize", in.keySize(), "valueSize",
                    in.valueSize(), "maxEntries", in.maxEntries()));
        }
        return m;
    }

    private static String typeName(Btf btf, int id) {
        return btf == null || id == 0 ? null : btf.describe(id);
    }

    static String text(CollectionSpec s) {
        StringBuilder sb = new StringBuilder();
        sb.append("Object ").append(s.name()).append(" (license \"").append(s.license()).append("\")\n\n");
        sb.append("Programs:\n");
        sb.append(String.format("  %-20s %-36s %-16s %-14s %s%n", "NAME", "SECTION", "TYPE", "ATTACH", "INSNS"));
        for (ObjectProgram p : s.programs()) {
            sb.append(String.format("  %-20s %-36s %-16s %-14s %d%n", p.name(), p.section().section(),
                    p.spec().type().kernelName(), p.spec().expectedAttachType() == null ? "-"
                            : p.spec().expectedAttachType().kernelName(), p.instructionCount()));
        }
        sb.append("\nMaps:\n");
        sb.append(String.format("  %-16s %-15s %-15s %-20s %-28s %8s %6s %s%n", "NAME", "KERNEL NAME", "TYPE", "KEY",
                "VALUE", "MAX", "FLAGS", "PINNING"));
        for (ObjectMap om : s.maps()) {
            MapSpec ms = om.spec();
            String key = ms.keySize() + (typeName(s.btf(), om.btfKeyTypeId()) == null ? ""
                    : " (" + typeName(s.btf(), om.btfKeyTypeId()) + ")");
            String value = ms.valueSize() + (typeName(s.btf(), om.btfValueTypeId()) == null ? ""
                    : " (" + typeName(s.btf(), om.btfValueTypeId()) + ")");
            sb.append(String.format("  %-16s %-15s %-15s %-20s %-28s %8d %6s %s%n", om.name(), ms.name(),
                    ms.type().kernelName(), key, value, ms.maxEntries(), String.format("0x%x", ms.flags()),
                    om.pinning() == ObjectMap.Pinning.BY_NAME ? "by_name" : "none"));
            if (ms.innerMap() != null) {
                sb.append(String.format("    inner: %s key %d value %d max %d%n", ms.innerMap().type().kernelName(),
                        ms.innerMap().keySize(), ms.innerMap().valueSize(), ms.innerMap().maxEntries()));
            }
        }
        List<CollectionSpec.Variable> vars = s.variables();
        if (!vars.isEmpty()) {
            sb.append("\nGlobal data:\n");
            sb.append(String.format("  %-10s %-20s %6s %5s %s%n", "SECTION", "NAME", "OFFSET", "SIZE", "TYPE"));
            for (CollectionSpec.Variable v : vars) {
                sb.append(String.format("  %-10s %-20s %6d %5d %s%n", v.section(), v.name(), v.offset(), v.size(),
                        v.type()));
            }
        }
        return sb.toString();
    }
}
