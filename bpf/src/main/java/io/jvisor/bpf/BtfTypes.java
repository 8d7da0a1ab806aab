package io.jvisor.bpf;

/**
 * BTF type information for a map's key and value: a loaded BTF object's fd and the type ids in it.
 *
 * @param fd the BTF object fd, or 0 for none
 * @param keyTypeId the key's type id
 * @param valueTypeId the value's type id
 */
public record BtfTypes(int fd, int keyTypeId, int valueTypeId) {
    /** No BTF. */
    public static final BtfTypes NONE = new BtfTypes(0, 0, 0);
}
