package io.jvisor.bpf;

/**
 * What the kernel reports about a live map (BPF_OBJ_GET_INFO_BY_FD).
 *
 * @param type the map type (null when this library does not know it)
 * @param id the kernel's map id
 * @param name the object name
 * @param keySize key size in bytes
 * @param valueSize value size in bytes
 * @param maxEntries capacity
 * @param flags creation flags
 * @param btfId the BTF object id, or 0
 * @param btfKeyTypeId the key's BTF type id, or 0
 * @param btfValueTypeId the value's BTF type id, or 0
 */
public record MapInfo(MapType type, int id, String name, int keySize, int valueSize, int maxEntries, int flags,
                      int btfId, int btfKeyTypeId, int btfValueTypeId) {}
