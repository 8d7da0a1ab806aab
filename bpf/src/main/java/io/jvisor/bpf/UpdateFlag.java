package io.jvisor.bpf;

/** How BPF_MAP_UPDATE_ELEM treats an existing element. */
public enum UpdateFlag {
    /** Create or replace. */
    ANY(0),
    /** Create only; fails with EEXIST when the key is present. */
    NOEXIST(1),
    /** Replace only; fails with ENOENT when the key is absent. */
    EXIST(2);

    private final int value;

    UpdateFlag(int value) {
        this.value = value;
    }

    /** The kernel's flag value. */
    public int value() {
        return value;
    }
}
