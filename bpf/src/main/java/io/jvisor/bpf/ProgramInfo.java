package io.jvisor.bpf;

import java.util.List;

/**
 * What the kernel reports about a loaded program.
 *
 * @param type the program type (null if unknown to this library)
 * @param id kernel id
 * @param name object name
 * @param tag the program tag (hash of its instructions) in hex
 * @param xlatedLength bytes of verified (translated) code
 * @param jitedLength bytes of JIT-compiled code
 * @param mapIds ids of the maps the program uses
 * @param btfId BTF object id, or 0
 * @param runCount runs counted while BPF stats are enabled
 * @param runTimeNs run time counted while BPF stats are enabled
 * @param verifiedInstructions instructions the verifier processed
 */
public record ProgramInfo(ProgramType type, int id, String name, String tag, int xlatedLength, int jitedLength,
                          List<Integer> mapIds, int btfId, long runCount, long runTimeNs, int verifiedInstructions) {}
