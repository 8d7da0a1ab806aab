package io.jvisor.bpf.btf;

/**
 * Raw BTF or BTF.ext bytes are malformed: truncated, a bad magic, an offset outside its section,
 * a type id that does not exist. The message names the section and what is wrong.
 */
public final class BtfFormatException extends Exception {
    /** @param message what is wrong, e.g. {@code ".BTF: type #12 (struct) runs past the type section"} */
    public BtfFormatException(String message) {
        super(message);
    }
}
