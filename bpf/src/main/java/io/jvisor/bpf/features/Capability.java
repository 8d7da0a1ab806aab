package io.jvisor.bpf.features;

import java.util.Locale;

/** The Linux capabilities (include/uapi/linux/capability.h), numbered as the kernel numbers them. */
public enum Capability {
    CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, LINUX_IMMUTABLE,
    NET_BIND_SERVICE, NET_BROADCAST, NET_ADMIN, NET_RAW, IPC_LOCK, IPC_OWNER, SYS_MODULE, SYS_RAWIO, SYS_CHROOT,
    SYS_PTRACE, SYS_PACCT, SYS_ADMIN, SYS_BOOT, SYS_NICE, SYS_RESOURCE, SYS_TIME, SYS_TTY_CONFIG, MKNOD, LEASE,
    AUDIT_WRITE, AUDIT_CONTROL, SETFCAP, MAC_OVERRIDE, MAC_ADMIN, SYSLOG, WAKE_ALARM, BLOCK_SUSPEND, AUDIT_READ,
    PERFMON, BPF, CHECKPOINT_RESTORE;

    /** The capability's bit number, e.g. 39 for {@link #BPF}. */
    public int number() {
        return ordinal();
    }

    /** The name in the lower case that setpriv, capsh and getpcaps print: {@code cap_bpf}. */
    public String lowerName() {
        return capName().toLowerCase(Locale.ROOT);
    }

    /** The name the kernel and capsh use, e.g. {@code CAP_BPF}. */
    public String capName() {
        return "CAP_" + name();
    }

    /** The capability with this bit number, or null when this enum does not know it. */
    public static Capability of(int number) {
        Capability[] all = values();
        return number >= 0 && number < all.length ? all[number] : null;
    }

    /** Parses {@code CAP_BPF}, {@code cap_bpf} or {@code bpf}. */
    public static Capability parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        try {
            return valueOf(n.startsWith("CAP_") ? n.substring(4) : n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no capability named '" + name + "'", e);
        }
    }
}
