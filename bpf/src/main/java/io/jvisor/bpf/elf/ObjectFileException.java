package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfException;

/**
 * An object file cannot be turned into a {@link CollectionSpec}: it is not a BPF ELF object, it is
 * truncated or corrupt, or it uses something jvisor does not support. This is the only exception
 * {@link ObjectFile} throws, whatever the input bytes. {@link #reason()} classifies the problem; the
 * message names the object, the section and the symbol at fault.
 */
public final class ObjectFileException extends BpfException {
    /** What is wrong with the object. */
    public enum Reason {
        /** Not readable as a file. */
        IO,
        /** Not a 64-bit little-endian relocatable ELF file for the BPF machine. */
        NOT_BPF_ELF,
        /** A header, section or table extends past the end of the file, or is inconsistent. */
        MALFORMED_ELF,
        /** A section whose name follows no known program, map or data convention. */
        UNKNOWN_SECTION,
        /** A relocation names a symbol that does not exist, or that no map or function defines. */
        MISSING_SYMBOL,
        /** A relocation the loader cannot apply (wrong instruction, offset or kind). */
        BAD_RELOCATION,
        /** A map definition that cannot be read or is inconsistent. */
        BAD_MAP,
        /** A program's code that cannot be decoded. */
        BAD_PROGRAM,
        /** {@code .BTF} or {@code .BTF.ext} is malformed or inconsistent with the ELF file. */
        BAD_BTF,
        /** A request against the spec (a constant, a map) names something it does not have. */
        NO_SUCH_ELEMENT
    }

    private final Reason reason;

    /**
     * @param object the object's name, e.g. {@code "fw.o"}
     * @param reason the classification
     * @param detail what is wrong, naming section and symbol
     */
    public ObjectFileException(String object, Reason reason, String detail) {
        super("read BPF object '" + object + "'", 0, reason.name().toLowerCase().replace('_', ' ') + ": " + detail);
        this.reason = reason;
    }

    /** Same, with a cause. */
    public ObjectFileException(String object, Reason reason, String detail, Throwable cause) {
        this(object, reason, detail);
        initCause(cause);
    }

    /** What is wrong. */
    public Reason reason() {
        return reason;
    }
}
