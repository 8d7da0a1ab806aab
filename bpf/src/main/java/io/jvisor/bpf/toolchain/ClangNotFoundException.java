package io.jvisor.bpf.toolchain;

import java.util.List;

/** No usable clang: it is not on PATH (or where JVISOR_CLANG says), or it cannot target BPF. */
public final class ClangNotFoundException extends CompileException {
    /** How to get a clang that targets BPF. */
    public static final String INSTALL_HINT = "install clang with BPF support: 'apt-get install clang libbpf-dev' "
            + "(Debian/Ubuntu; clang-19 where available), 'dnf install clang libbpf-devel' (Fedora), "
            + "or point JVISOR_CLANG at a clang binary";

    /** @param problem what is missing */
    public ClangNotFoundException(String problem) {
        super("C to BPF", List.of(), problem + "; " + INSTALL_HINT);
    }
}
