package io.jvisor.engine;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A module type's data plane: C source written against {@code jvisor/module.h}. The engine
 * compiles it once per distinct source (the toolchain caches by content) and loads the object once
 * per instance.
 *
 * @param fileName the name diagnostics use, e.g. {@code forwarder.c}
 * @param source the C source
 */
public record ModuleCode(String fileName, String source) {
    public ModuleCode {
        if (fileName == null || !fileName.matches("[A-Za-z0-9_.-]+\\.c")) {
            throw new IllegalArgumentException("module file name must look like name.c, got " + fileName);
        }
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("module " + fileName + " has no source");
        }
    }

    /** Source from a class-path resource next to {@code anchor}. */
    public static ModuleCode resource(Class<?> anchor, String name) {
        try (var in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException("no resource " + name + " next to " + anchor.getName());
            }
            String file = name.substring(name.lastIndexOf('/') + 1);
            return new ModuleCode(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + name, e);
        }
    }

    /** A short content hash, to tell versions of the code apart. */
    public String hash() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
