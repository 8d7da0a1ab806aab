package io.jvisor.bpf.btf;

/** The kinds of BTF types ({@code BTF_KIND_*} in include/uapi/linux/btf.h), by their kernel number. */
public enum BtfKind {
    VOID(0), INT(1), PTR(2), ARRAY(3), STRUCT(4), UNION(5), ENUM(6), FWD(7), TYPEDEF(8), VOLATILE(9), CONST(10),
    RESTRICT(11), FUNC(12), FUNC_PROTO(13), VAR(14), DATASEC(15), FLOAT(16), DECL_TAG(17), TYPE_TAG(18), ENUM64(19);

    private final int value;

    BtfKind(int value) {
        this.value = value;
    }

    /** The kernel's number for this kind. */
    public int value() {
        return value;
    }

    /** The kind with kernel number {@code value}, or null when unknown. */
    public static BtfKind of(int value) {
        return value >= 0 && value < values().length ? values()[value] : null;
    }
}
