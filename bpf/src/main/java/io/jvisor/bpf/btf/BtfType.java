package io.jvisor.bpf.btf;

import java.util.List;

/**
 * One BTF type, as a record per kind. Types refer to each other by id (an index into
 * {@link Btf#types()}); id 0 is {@link Void}. Names are empty for anonymous types.
 */
public sealed interface BtfType {
    /** The kind of this type. */
    BtfKind kind();

    /** The name; empty when anonymous. */
    String name();

    /** The type id 0: void. */
    record Void() implements BtfType {
        public BtfKind kind() { return BtfKind.VOID; }
        public String name() { return "void"; }
    }

    /**
     * An integer.
     *
     * @param size bytes
     * @param encoding bit 0 signed, bit 1 char, bit 2 bool
     * @param bitOffset offset of the value's bits
     * @param bits width in bits
     */
    record Int(String name, int size, int encoding, int bitOffset, int bits) implements BtfType {
        /** Encoding bit: signed. */
        public static final int SIGNED = 1;
        public BtfKind kind() { return BtfKind.INT; }
    }

    /** A pointer to {@code type}. */
    record Ptr(int type) implements BtfType {
        public BtfKind kind() { return BtfKind.PTR; }
        public String name() { return ""; }
    }

    /** An array of {@code nelems} elements of {@code type}. */
    record Array(int type, int indexType, int nelems) implements BtfType {
        public BtfKind kind() { return BtfKind.ARRAY; }
        public String name() { return ""; }
    }

    /**
     * A struct or union member.
     *
     * @param bitOffset offset in bits from the start of the aggregate
     * @param bitfieldSize bit-field width, or 0 for an ordinary member
     */
    record Member(String name, int type, int bitOffset, int bitfieldSize) {}

    /** A struct of {@code size} bytes. */
    record Struct(String name, int size, List<Member> members) implements BtfType {
        public Struct {
            members = List.copyOf(members);
        }
        public BtfKind kind() { return BtfKind.STRUCT; }
    }

    /** A union of {@code size} bytes. */
    record Union(String name, int size, List<Member> members) implements BtfType {
        public Union {
            members = List.copyOf(members);
        }
        public BtfKind kind() { return BtfKind.UNION; }
    }

    /** One enumerator. */
    record EnumValue(String name, long value) {}

    /** An enum of {@code size} bytes (ENUM or, when {@code wide}, ENUM64). */
    record Enum(String name, int size, boolean signed, boolean wide, List<EnumValue> values) implements BtfType {
        public Enum {
            values = List.copyOf(values);
        }
        public BtfKind kind() { return wide ? BtfKind.ENUM64 : BtfKind.ENUM; }
    }

    /** A forward declaration of a struct or union. */
    record Fwd(String name, boolean union) implements BtfType {
        public BtfKind kind() { return BtfKind.FWD; }
    }

    /** A typedef. */
    record Typedef(String name, int type) implements BtfType {
        public BtfKind kind() { return BtfKind.TYPEDEF; }
    }

    /** A qualifier (volatile, const, restrict) or a type tag over {@code type}. */
    record Qualifier(BtfKind kind, String name, int type) implements BtfType {}

    /**
     * A function.
     *
     * @param type its FUNC_PROTO
     * @param linkage 0 static, 1 global, 2 extern
     */
    record Func(String name, int type, int linkage) implements BtfType {
        public BtfKind kind() { return BtfKind.FUNC; }
    }

    /** A function parameter; an unnamed void parameter marks varargs. */
    record Param(String name, int type) {}

    /** A function signature. */
    record FuncProto(int returnType, List<Param> params) implements BtfType {
        public FuncProto {
            params = List.copyOf(params);
        }
        public BtfKind kind() { return BtfKind.FUNC_PROTO; }
        public String name() { return ""; }
    }

    /**
     * A variable.
     *
     * @param linkage 0 static, 1 global allocated, 2 extern
     */
    record Var(String name, int type, int linkage) implements BtfType {
        public BtfKind kind() { return BtfKind.VAR; }
    }

    /** A variable's place in a data section. */
    record VarSecInfo(int type, int offset, int size) {}

    /** A data section ({@code .data}, {@code .rodata}, {@code .maps}, ...) and the variables in it. */
    record DataSec(String name, int size, List<VarSecInfo> vars) implements BtfType {
        public DataSec {
            vars = List.copyOf(vars);
        }
        public BtfKind kind() { return BtfKind.DATASEC; }
    }

    /** A floating point type. */
    record Float(String name, int size) implements BtfType {
        public BtfKind kind() { return BtfKind.FLOAT; }
    }

    /** A declaration tag on {@code type} (or on its member/parameter {@code componentIdx}, -1 for the whole). */
    record DeclTag(String name, int type, int componentIdx) implements BtfType {
        public BtfKind kind() { return BtfKind.DECL_TAG; }
    }
}
