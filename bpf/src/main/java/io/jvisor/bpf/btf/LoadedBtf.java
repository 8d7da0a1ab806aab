package io.jvisor.bpf.btf;

import io.jvisor.bpf.BpfException;
import io.jvisor.bpf.Fd;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Kernel;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * BTF loaded into the kernel (BPF_BTF_LOAD), owned through one file descriptor. Maps and programs
 * created with its fd carry type information: {@code bpftool map dump} pretty-prints values, and
 * the verifier maps instructions back to source lines.
 */
public final class LoadedBtf implements AutoCloseable {
    private final Fd fd;
    private final Btf btf;

    private LoadedBtf(Fd fd, Btf btf) {
        this.fd = fd;
        this.btf = btf;
    }

    /**
     * Loads {@code btf} (already {@linkplain BtfSanitizer sanitized}).
     *
     * @param what whose BTF this is, for error messages (e.g. {@code "fw.o"})
     * @throws BtfLoadException when the kernel refuses it; the message carries the kernel's verdict
     */
    public static LoadedBtf load(Btf btf, String what) {
        byte[] raw = btf.rawNoCopy();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocateFrom(JAVA_BYTE, raw);
            MemorySegment attr = arena.allocate(Attr.BtfLoad.LAYOUT);
            attr.set(JAVA_LONG, Attr.BtfLoad.BTF, data.address());
            attr.set(JAVA_INT, Attr.BtfLoad.BTF_SIZE, raw.length);
            long r = Syscall.bpf(Attr.BTF_LOAD, attr, attr.byteSize());
            if (r < 0) {
                // Retry with a log to learn why.
                int logSize = 1 << 20;
                MemorySegment log = arena.allocate(logSize);
                attr.set(JAVA_LONG, Attr.BtfLoad.BTF_LOG_BUF, log.address());
                attr.set(JAVA_INT, Attr.BtfLoad.BTF_LOG_SIZE, logSize);
                attr.set(JAVA_INT, Attr.BtfLoad.BTF_LOG_LEVEL, 1);
                r = Syscall.bpf(Attr.BTF_LOAD, attr, attr.byteSize());
                if (r < 0) {
                    String text = log.getString(0, StandardCharsets.UTF_8);
                    throw new BtfLoadException(what, (int) -r, text);
                }
            }
            return new LoadedBtf(Fd.adopt((int) r, "BTF of " + what), btf);
        }
    }

    /**
     * Reads back the BTF the kernel holds under {@code btfId}, such as a map's
     * {@link io.jvisor.bpf.MapInfo#btfId()} (BPF_BTF_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD).
     *
     * @throws BpfException when no BTF has that id, or the kernel's bytes do not parse
     */
    public static Btf fetch(int btfId) {
        try (Fd fd = Fd.adopt(Kernel.fdById(Attr.BTF_GET_FD_BY_ID, btfId, "BTF"), "BTF id " + btfId);
             Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Attr.BtfInfo.LAYOUT);
            Kernel.info(fd.get(), info, "BTF id " + btfId);
            int size = info.get(JAVA_INT, Attr.BtfInfo.BTF_SIZE);
            MemorySegment data = arena.allocate(size);
            info.fill((byte) 0);
            info.set(JAVA_LONG, Attr.BtfInfo.BTF, data.address());
            info.set(JAVA_INT, Attr.BtfInfo.BTF_SIZE, size);
            Kernel.info(fd.get(), info, "BTF id " + btfId);
            try {
                return Btf.parse(data.toArray(JAVA_BYTE));
            } catch (BtfFormatException e) {
                throw new BpfException("parse the BTF with id " + btfId, 0, e.getMessage(), e);
            }
        }
    }

    /** The owned descriptor. */
    public Fd fd() {
        return fd;
    }

    /** The BTF that was loaded. */
    public Btf btf() {
        return btf;
    }

    /** Closes the descriptor; maps and programs that use the BTF keep it alive in the kernel. */
    @Override
    public void close() {
        fd.close();
    }

    /** The kernel refused BTF: it does not match what this kernel accepts. */
    public static final class BtfLoadException extends BpfException {
        private final String log;

        BtfLoadException(String what, int errno, String log) {
            super("BPF_BTF_LOAD of " + what, errno, "the BTF does not match the kernel: " + verdict(log));
            this.log = log;
        }

        private static String verdict(String log) {
            String[] lines = log.strip().split("\n");
            for (int i = lines.length - 1; i >= 0; i--) {
                if (!lines[i].isBlank()) {
                    String l = lines[i].strip();
                    // The kernel names the offending type on the line before its verdict.
                    return i > 0 && !lines[i - 1].isBlank() ? lines[i - 1].strip() + ": " + l : l;
                }
            }
            return "the kernel gave no reason";
        }

        /** The kernel's BTF log. */
        public String log() {
            return log;
        }
    }
}
