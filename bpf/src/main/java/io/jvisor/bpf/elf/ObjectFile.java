package io.jvisor.bpf.elf;

import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfExt;
import io.jvisor.bpf.btf.BtfFeatures;
import io.jvisor.bpf.btf.BtfFormatException;
import io.jvisor.bpf.btf.BtfSanitizer;
import io.jvisor.bpf.elf.ElfReader.Section;
import io.jvisor.bpf.elf.ElfReader.Symbol;
import io.jvisor.bpf.elf.ObjectFileException.Reason;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads BPF ELF objects (as {@code clang -target bpf -O2 -g} writes them) into a
 * {@link CollectionSpec}, following libbpf's conventions: program sections, {@code .text}
 * sub-programs linked into each program that calls them, BTF-defined and legacy maps, global
 * data as array maps, and relocations applied so that the instructions are the ones libbpf would
 * send to the kernel (map references keep the map's name until load).
 *
 * <p>Whatever the input, the only exception thrown is {@link ObjectFileException}; sizes are
 * checked against the file before anything is allocated.
 *
 * <p>The work is done in parts, as cilium/ebpf splits it: {@link ElfReader} (sections, symbols,
 * relocations), the BTF here, {@link MapReader} (maps and global data) and {@link Linker}
 * (relocations applied, bpf-to-bpf calls linked).
 */
public final class ObjectFile {
    private ObjectFile() {
    }

    /**
     * Reads the object at {@code path}.
     *
     * @throws ObjectFileException for an unreadable, malformed or unsupported object
     */
    public static CollectionSpec read(Path path) {
        String name = objectName(path.getFileName() == null ? path.toString() : path.getFileName().toString());
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException | RuntimeException e) {
            throw new ObjectFileException(name, Reason.IO, "cannot read " + path + ": " + e.getMessage(), e);
        }
        return parse(bytes, name);
    }

    /**
     * Parses object bytes.
     *
     * @param name the object's name, for messages and global data map names (e.g. {@code fw})
     * @throws ObjectFileException for a malformed or unsupported object
     */
    public static CollectionSpec parse(byte[] bytes, String name) {
        try {
            return assemble(new ElfReader(name, bytes));
        } catch (ObjectFileException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // jelf and the JDK throw a variety of unchecked exceptions on corrupt input.
            throw new ObjectFileException(name, Reason.MALFORMED_ELF, "corrupt ELF structure: " + e, e);
        }
    }

    /** {@code fw} for {@code fw.o} or {@code fw.bpf.o}. */
    static String objectName(String fileName) {
        int dot = fileName.indexOf('.');
        return dot > 0 ? fileName.substring(0, dot) : fileName;
    }

    /** A name the kernel takes for a map or program: at most 15 characters of {@code [A-Za-z0-9_.]}. */
    static String kernelName(String name) {
        String n = name.replaceAll("[^A-Za-z0-9_.]", "_");
        return n.length() > 15 ? n.substring(0, 15) : n;
    }

    private static CollectionSpec assemble(ElfReader elf) {
        Btf btf = null;
        BtfExt btfExt = BtfExt.EMPTY;
        Section btfSection = elf.section(".BTF");
        if (btfSection != null) {
            try {
                btf = btf(elf, btfSection);
                Section ext = elf.section(".BTF.ext");
                if (ext != null) {
                    btfExt = BtfExt.parse(elf.data(ext), btf);
                }
            } catch (BtfFormatException e) {
                throw elf.error(Reason.BAD_BTF, e.getMessage());
            }
        }
        MapReader.Maps maps = MapReader.read(elf, btf);
        checkSectionKinds(elf);
        List<ObjectProgram> programs = Linker.programs(elf, maps, btfExt);
        return new CollectionSpec(elf.object(), programs, maps.maps(), btf, elf.license());
    }

    /** The object's BTF, with what clang leaves for the loader filled in (datasec sizes, variable offsets). */
    private static Btf btf(ElfReader elf, Section s) throws BtfFormatException {
        Btf parsed = Btf.parse(elf.data(s));
        Map<String, Long> sizes = new HashMap<>();
        for (Section sec : elf.sections()) {
            sizes.putIfAbsent(sec.name(), sec.size());
        }
        Map<String, Long> offsets = new HashMap<>();
        for (Symbol sym : elf.symbols()) {
            if (sym.type() == ElfReader.STT_OBJECT || sym.type() == 0) {
                offsets.putIfAbsent(sym.name(), sym.value());
            }
        }
        // Kind downgrades happen at load; here only what clang leaves for the loader.
        return BtfSanitizer.sanitize(parsed, sizes, offsets, BtfFeatures.ALL);
    }

    /** Refuses an allocated section that follows no convention: libbpf would not know what to do with it. */
    private static void checkSectionKinds(ElfReader elf) {
        for (Section s : elf.sections()) {
            if (s.index() == 0 || !s.isAlloc() || s.size() == 0) {
                continue;
            }
            String n = s.name();
            boolean known = n.equals(".text") || n.equals(".maps") || n.equals("maps") || n.equals("license")
                    || n.equals("version") || MapReader.dataKind(n) != null || ProgramSection.of(n).isPresent();
            if (!known) {
                throw elf.error(Reason.UNKNOWN_SECTION, "section '" + n + "' follows no program, map or data convention"
                        + (s.isExec() ? " (code sections are named like xdp, tc, tcx/ingress, tracepoint/<cat>/<name>)"
                        : ""));
            }
        }
    }
}
