package io.jvisor.bpf;

import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Scratch;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The ids of every program, map and link in the kernel (BPF_*_GET_NEXT_ID), as {@code bpftool
 * prog/map/link list} sees them. Useful to check that an operation left the kernel as it found it.
 */
public final class KernelObjects {
    private KernelObjects() {}

    /** Every loaded program's id, ascending. */
    public static List<Integer> programIds() {
        return ids(Attr.PROG_GET_NEXT_ID, "program");
    }

    /** Every map's id, ascending. */
    public static List<Integer> mapIds() {
        return ids(Attr.MAP_GET_NEXT_ID, "map");
    }

    /** Every link's id, ascending. */
    public static List<Integer> linkIds() {
        return ids(Attr.LINK_GET_NEXT_ID, "link");
    }

    private static List<Integer> ids(int cmd, String what) {
        List<Integer> out = new ArrayList<>();
        int id = 0;
        while (true) {
            MemorySegment attr = Scratch.get().attr(Attr.GetId.LAYOUT.byteSize());
            attr.set(JAVA_INT, Attr.GetId.ID, id);
            long r = Syscall.bpf(cmd, attr, attr.byteSize());
            if (r == -Errno.ENOENT.number()) {
                return out;
            }
            if (r < 0) {
                throw new BpfException("list " + what + " ids", (int) -r, BpfException.defaultHint((int) -r));
            }
            id = attr.get(JAVA_INT, Attr.GetId.NEXT_ID);
            out.add(id);
        }
    }
}
