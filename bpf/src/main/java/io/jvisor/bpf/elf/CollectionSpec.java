package io.jvisor.bpf.elf;

import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a BPF object file says, with no kernel involved: its programs (linked with their
 * sub-programs), its maps (including the array maps behind global data) and its BTF. Immutable:
 * the {@code with*} methods return new specs, so one object can be instantiated many times with
 * different constants, as libbpf skeletons do. Turn it into kernel objects with
 * {@link Collection#load(CollectionSpec, CollectionOptions)}.
 *
 * @param name the object's name (its file name without {@code .o})
 * @param programs the programs, in section order
 * @param maps the maps, BTF and legacy maps first, then global data
 * @param btf the object's BTF with DATASECs filled in, or null when it has none
 * @param license the {@code license} section's text
 */
public record CollectionSpec(String name, List<ObjectProgram> programs, List<ObjectMap> maps, Btf btf,
                             String license) {
    public CollectionSpec {
        Objects.requireNonNull(name, "name");
        programs = List.copyOf(programs);
        maps = List.copyOf(maps);
    }

    /** The program whose C function is named {@code name}. */
    public Optional<ObjectProgram> program(String name) {
        return programs.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The map named {@code name} (C variable name, or the section name for global data). */
    public Optional<ObjectMap> map(String name) {
        return maps.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /**
     * A global variable.
     *
     * @param section its data section, e.g. {@code .rodata}
     * @param name the C name
     * @param offset byte offset in the section
     * @param size size in bytes
     * @param typeId its BTF type id
     * @param type a C-like spelling of its type
     */
    public record Variable(String section, String name, int offset, int size, int typeId, String type) {}

    /** The global variables of the data sections, from BTF. */
    public List<Variable> variables() {
        List<Variable> out = new ArrayList<>();
        if (btf == null) {
            return out;
        }
        for (BtfType t : btf.types()) {
            if (t instanceof BtfType.DataSec ds && map(ds.name()).isPresent()) {
                for (BtfType.VarSecInfo v : ds.vars()) {
                    if (btf.type(v.type()) instanceof BtfType.Var var) {
                        out.add(new Variable(ds.name(), var.name(), v.offset(), v.size(), var.type(),
                                btf.describe(var.type())));
                    }
                }
            }
        }
        return out;
    }

    /**
     * This spec with the {@code .rodata} constant {@code name} set to {@code value} (exactly the
     * variable's size, little-endian as the BPF target is). Set constants before load: the
     * verifier then prunes the code they disable.
     *
     * @throws ObjectFileException when there is no such constant or the size differs
     */
    public CollectionSpec withConstant(String name, byte[] value) {
        Variable v = variables().stream().filter(x -> x.name().equals(name) && x.section().startsWith(".rodata"))
                .findFirst().orElseThrow(() -> new ObjectFileException(this.name, ObjectFileException.Reason.NO_SUCH_ELEMENT,
                        "no constant '" + name + "' in .rodata (constants: " + variables().stream()
                                .filter(x -> x.section().startsWith(".rodata")).map(Variable::name).toList() + ")"));
        if (value.length != v.size()) {
            throw new ObjectFileException(this.name, ObjectFileException.Reason.NO_SUCH_ELEMENT,
                    "constant '" + name + "' (" + v.type() + ") is " + v.size() + " bytes, not " + value.length);
        }
        ObjectMap m = map(v.section()).orElseThrow();
        byte[] data = m.data();
        System.arraycopy(value, 0, data, v.offset(), value.length);
        List<ObjectMap> newMaps = new ArrayList<>(maps);
        newMaps.set(maps.indexOf(m), m.withData(data));
        return new CollectionSpec(this.name, programs, newMaps, btf, license);
    }

    /** {@link #withConstant(String, byte[])} for an integer constant of 1, 2, 4 or 8 bytes. */
    public CollectionSpec withConstant(String name, long value) {
        int size = variables().stream().filter(x -> x.name().equals(name) && x.section().startsWith(".rodata"))
                .mapToInt(Variable::size).findFirst().orElse(8);
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new ObjectFileException(this.name, ObjectFileException.Reason.NO_SUCH_ELEMENT,
                    "constant '" + name + "' is " + size + " bytes: not an integer; pass its bytes");
        }
        byte[] b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
        return withConstant(name, java.util.Arrays.copyOf(b, size));
    }

    /** {@link #withConstant(String, long)} for several constants. */
    public CollectionSpec withConstants(Map<String, Long> values) {
        CollectionSpec s = this;
        for (Map.Entry<String, Long> e : values.entrySet()) {
            s = s.withConstant(e.getKey(), e.getValue());
        }
        return s;
    }

    /** This spec with {@code map} replacing the map of the same name. */
    public CollectionSpec withMap(ObjectMap map) {
        ObjectMap old = map(map.name()).orElseThrow(() -> new ObjectFileException(name,
                ObjectFileException.Reason.NO_SUCH_ELEMENT, "no map '" + map.name() + "'"));
        List<ObjectMap> newMaps = new ArrayList<>(maps);
        newMaps.set(maps.indexOf(old), map);
        return new CollectionSpec(name, programs, newMaps, btf, license);
    }
}
