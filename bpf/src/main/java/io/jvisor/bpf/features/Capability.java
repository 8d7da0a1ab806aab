package io.jvisor.bpf.features;

import java.util.Locale;

/**
 * The Linux capabilities, in bit order (linux/capability.h): {@code ordinal()} is the bit number
 * in /proc/PID/status and in capget(2).
 */
public enum Capability {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID,
    CAP_SETPCAP, CAP_LINUX_IMMUTABLE, CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN, CAP_NET_RAW,
    CAP_IPC_LOCK, CAP_IPC_OWNER, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_SYS_PACCT,
    CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_SYS_TIME, CAP_SYS_TTY_CONFIG, CAP_MKNOD,
    CAP_LEASE, CAP_AUDIT_WRITE, CAP_AUDIT_CONTROL, CAP_SETFCAP, CAP_MAC_OVERRIDE, CAP_MAC_ADMIN, CAP_SYSLOG,
    CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND, CAP_AUDIT_READ, CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE;

    /** The bit number. */
    public int bit() {
        return ordinal();
    }

    /** The name in the lower case that setpriv, capsh and getpcaps print: {@code cap_bpf}. */
    public String lowerName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The capability with name {@code name}, in any case, with or without the {@code CAP_} prefix
     * ({@code bpf}, {@code cap_bpf}, {@code CAP_BPF}).
     *
     * @throws IllegalArgumentException naming the unknown capability
     */
    public static Capability of(String name) {
        String n = name.strip().toUpperCase(Locale.ROOT);
        try {
            return valueOf(n.startsWith("CAP_") ? n : "CAP_" + n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no capability named '" + name + "'", e);
        }
    }
}
