package io.jvisor.bpf;

/**
 * BTF that accompanies a program load: the BTF object's fd and the raw func_info and line_info
 * records (as in {@code .BTF.ext}, already relocated to instruction offsets of this program).
 *
 * @param btfFd fd of the loaded BTF object
 * @param funcInfo raw {@code struct bpf_func_info} records, or null
 * @param funcInfoRecSize size of one func_info record
 * @param lineInfo raw {@code struct bpf_line_info} records, or null
 * @param lineInfoRecSize size of one line_info record
 */
public record ProgramBtf(int btfFd, byte[] funcInfo, int funcInfoRecSize, byte[] lineInfo, int lineInfoRecSize) {
    int funcInfoCount() {
        return funcInfo == null || funcInfoRecSize == 0 ? 0 : funcInfo.length / funcInfoRecSize;
    }

    int lineInfoCount() {
        return lineInfo == null || lineInfoRecSize == 0 ? 0 : lineInfo.length / lineInfoRecSize;
    }
}
