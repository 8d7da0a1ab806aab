package io.jvisor.bpf.btf;

import io.jvisor.bpf.features.KernelVersion;

/**
 * Which BTF kinds a kernel accepts in BPF_BTF_LOAD. {@link BtfSanitizer} rewrites what a kernel
 * lacks into kinds it has, the way libbpf does, so that a new clang's object still loads on an
 * older kernel.
 *
 * @param func FUNC and FUNC_PROTO (4.20; 5.0 for the verifier to use them)
 * @param globalFunc FUNC with global linkage (5.6)
 * @param datasec VAR and DATASEC (5.2)
 * @param floats FLOAT (5.13)
 * @param declTag DECL_TAG (5.16)
 * @param typeTag TYPE_TAG (5.17)
 * @param enum64 ENUM64 and signed enums (6.0)
 */
public record BtfFeatures(boolean func, boolean globalFunc, boolean datasec, boolean floats, boolean declTag,
                          boolean typeTag, boolean enum64) {
    /** A kernel that accepts every kind this library knows. */
    public static final BtfFeatures ALL = new BtfFeatures(true, true, true, true, true, true, true);

    /** What a kernel of {@code version} accepts, by the release that introduced each kind. */
    public static BtfFeatures of(KernelVersion version) {
        return new BtfFeatures(version.atLeast(5, 0), version.atLeast(5, 6), version.atLeast(5, 2),
                version.atLeast(5, 13), version.atLeast(5, 16), version.atLeast(5, 17), version.atLeast(6, 0));
    }

    /** What the running kernel accepts (read once: a running kernel does not change its version). */
    public static BtfFeatures running() {
        BtfFeatures r = running;
        if (r == null) {
            r = of(KernelVersion.current());
            running = r;
        }
        return r;
    }

    private static volatile BtfFeatures running;
}
