package io.jvisor.bpf.elf;

import io.jvisor.bpf.MapSpec;

import java.util.Arrays;
import java.util.Objects;

/**
 * A map an object file defines: a BTF map in {@code .maps}, a legacy {@code maps} definition, or
 * the array map behind a global data section.
 *
 * @param name the C variable name (or, for global data, the section name such as {@code .rodata});
 *     programs refer to the map by this name
 * @param kind where the definition comes from
 * @param spec what to create; its name is the kernel's (at most 15 characters)
 * @param pinning whether the map is pinned by name
 * @param btfKeyTypeId the key's BTF type id, or 0
 * @param btfValueTypeId the value's BTF type id (a DATASEC for global data), or 0
 * @param data the initial value of a global data map (a copy), or null
 */
public record ObjectMap(String name, Kind kind, MapSpec spec, Pinning pinning, int btfKeyTypeId, int btfValueTypeId,
                        byte[] data) {
    /** Where a map definition comes from. */
    public enum Kind {
        /** A BTF-defined map in {@code .maps}. */
        BTF,
        /** A {@code struct bpf_map_def} in the legacy {@code maps} section. */
        LEGACY,
        /** {@code .data} (or {@code .data.*}): read-write global variables. */
        DATA,
        /** {@code .rodata} (or {@code .rodata.*}): constants, frozen after load. */
        RODATA,
        /** {@code .bss}: zero-initialised global variables. */
        BSS;

        /** True for the global data kinds. */
        public boolean isGlobalData() {
            return this == DATA || this == RODATA || this == BSS;
        }
    }

    /** libbpf's pinning values ({@code __uint(pinning, LIBBPF_PIN_BY_NAME)}). */
    public enum Pinning {
        /** Not pinned. */
        NONE,
        /** Pinned at {@code <pin path>/<map name>}, and reused from there when it exists. */
        BY_NAME
    }

    public ObjectMap {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(pinning, "pinning");
        data = data == null ? null : data.clone();
    }

    /** The initial contents of a global data map (a copy), or null. */
    @Override
    public byte[] data() {
        return data == null ? null : data.clone();
    }

    /** This map with other initial contents. */
    public ObjectMap withData(byte[] newData) {
        return new ObjectMap(name, kind, spec, pinning, btfKeyTypeId, btfValueTypeId, newData);
    }

    /** This map with another spec. */
    public ObjectMap withSpec(MapSpec newSpec) {
        return new ObjectMap(name, kind, newSpec, pinning, btfKeyTypeId, btfValueTypeId, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectMap m && name.equals(m.name) && kind == m.kind && spec.equals(m.spec)
                && pinning == m.pinning && btfKeyTypeId == m.btfKeyTypeId && btfValueTypeId == m.btfValueTypeId
                && Arrays.equals(data, m.data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, kind, spec, pinning, btfKeyTypeId, btfValueTypeId, Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return "ObjectMap[" + name + ", " + kind + ", " + spec + ", " + pinning + "]";
    }
}
