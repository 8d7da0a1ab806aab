package io.jvisor.net;

import java.util.OptionalInt;

/**
 * The XDP programs of one device, as rtnetlink reports them (IFLA_XDP). Program ids are the
 * kernel's (0 when none); they are what {@code bpftool prog show id N} and
 * {@code io.jvisor.bpf.BpfProgram.fromId} take. Programs attached through bpf links show here too.
 *
 * @param ifindex the device
 * @param attached the kernel's XDP_ATTACHED_* summary: 0 none, 1 driver, 2 generic, 3 offloaded,
 *     4 more than one mode
 * @param driverProgramId the program in driver mode, or 0
 * @param genericProgramId the program in generic mode, or 0
 * @param offloadProgramId the program offloaded to the NIC, or 0
 */
public record XdpStatus(int ifindex, int attached, int driverProgramId, int genericProgramId, int offloadProgramId) {
    /** XDP_ATTACHED_* values (linux/if_link.h). */
    public static final int NONE = 0, DRIVER = 1, GENERIC = 2, OFFLOAD = 3, MULTI = 4;

    /** True when any program is attached, in any mode. */
    public boolean isAttached() {
        return attached != NONE;
    }

    /** The program running in {@code mode}, if any. */
    public OptionalInt programId(XdpAttachMode mode) {
        int id = mode == XdpAttachMode.DRIVER ? driverProgramId : genericProgramId;
        return id == 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The one attached program, whatever its mode; empty when there is none, or when programs run
     * in more than one mode (then ask {@link #programId(XdpAttachMode)}).
     */
    public OptionalInt programId() {
        if (attached == NONE || attached == MULTI) {
            return OptionalInt.empty();
        }
        int id = switch (attached) {
            case DRIVER -> driverProgramId;
            case GENERIC -> genericProgramId;
            default -> offloadProgramId;
        };
        return id == 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The mode of the one attached program, when exactly one generic or driver program is attached. */
    public java.util.Optional<XdpAttachMode> mode() {
        return switch (attached) {
            case DRIVER -> java.util.Optional.of(XdpAttachMode.DRIVER);
            case GENERIC -> java.util.Optional.of(XdpAttachMode.GENERIC);
            default -> java.util.Optional.empty();
        };
    }
}
