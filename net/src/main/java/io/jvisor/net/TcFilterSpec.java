package io.jvisor.net;

import io.jvisor.bpf.BpfProgram;

import java.util.Objects;

/**
 * A cls_bpf filter to attach to a device's clsact qdisc ({@link Rtnl#attachTcFilter}): the
 * rtnetlink equivalent of
 * {@code tc filter add dev DEV ingress prio P handle H bpf direct-action fd FD name NAME}.
 * It matches every protocol (ETH_P_ALL) in chain 0.
 *
 * <p>A filter is identified on its hook by (priority, handle); both are explicit here, so that a
 * later {@link Mode#REPLACE} (a live swap, or an adoption after a restart) finds the same filter.
 *
 * @param ifindex the device
 * @param direction the clsact hook
 * @param priority the filter's priority (tc's {@code prio}/{@code pref}), 1 to 65535; lower runs first
 * @param handle the filter's handle within its priority, not 0
 * @param programFd a SCHED_CLS program's descriptor; it need only stay open until the call returns
 *     (the filter holds its own reference)
 * @param name the name tc shows for the filter (TCA_BPF_NAME); empty for none
 * @param directAction whether the program's return value is the action (TCA_BPF_FLAG_ACT_DIRECT,
 *     {@code TC_ACT_OK}, {@code TC_ACT_SHOT}, ...), as with tc's {@code da}; otherwise it is a classid
 * @param mode whether the request creates, replaces, or does either
 */
public record TcFilterSpec(int ifindex, TcDirection direction, int priority, int handle, int programFd, String name,
                           boolean directAction, Mode mode) {

    /** What {@link Rtnl#attachTcFilter} does about an existing filter with the same priority and handle. */
    public enum Mode {
        /** Create a new filter; fail (EEXIST) if one exists: NLM_F_CREATE | NLM_F_EXCL. */
        CREATE,
        /**
         * Swap the program of the existing filter atomically (every packet sees either the old or
         * the new program); fail (ENOENT) if there is none: NLM_F_REPLACE.
         */
        REPLACE,
        /** Replace the existing filter's program atomically, or create the filter: NLM_F_CREATE | NLM_F_REPLACE. */
        CREATE_OR_REPLACE
    }

    /** Checks the values. */
    public TcFilterSpec {
        if (ifindex <= 0) {
            throw new IllegalArgumentException("ifindex must be positive: " + ifindex);
        }
        Objects.requireNonNull(direction, "direction");
        if (priority < 1 || priority > 0xffff) {
            throw new IllegalArgumentException("priority must be 1..65535: " + priority);
        }
        if (handle == 0) {
            throw new IllegalArgumentException("handle must not be 0 (the kernel would choose one)");
        }
        if (programFd < 0) {
            throw new IllegalArgumentException("programFd must be a descriptor: " + programFd);
        }
        name = name == null ? "" : name;
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("name contains NUL");
        }
        Objects.requireNonNull(mode, "mode");
    }

    /** A new direct-action filter ({@link Mode#CREATE}). */
    public static TcFilterSpec of(int ifindex, TcDirection direction, int priority, int handle, int programFd,
                                  String name) {
        return new TcFilterSpec(ifindex, direction, priority, handle, programFd, name, true, Mode.CREATE);
    }

    /**
     * A new direct-action filter running {@code program}, named after it. The program's descriptor
     * is read now; keep the program open until the request is made.
     */
    public static TcFilterSpec of(int ifindex, TcDirection direction, int priority, int handle, BpfProgram program) {
        return of(ifindex, direction, priority, handle, program.fd().get(), program.name());
    }

    /** The same filter with another program. */
    public TcFilterSpec withProgram(int fd, String programName) {
        return new TcFilterSpec(ifindex, direction, priority, handle, fd, programName, directAction, mode);
    }

    /** The same filter with another program, named after it. */
    public TcFilterSpec withProgram(BpfProgram program) {
        return withProgram(program.fd().get(), program.name());
    }

    /** The same filter, with or without direct action. */
    public TcFilterSpec withDirectAction(boolean on) {
        return new TcFilterSpec(ifindex, direction, priority, handle, programFd, name, on, mode);
    }

    /** The same filter with another mode. */
    public TcFilterSpec withMode(Mode m) {
        return new TcFilterSpec(ifindex, direction, priority, handle, programFd, name, directAction, m);
    }
}
