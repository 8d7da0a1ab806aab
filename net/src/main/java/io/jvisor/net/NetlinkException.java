package io.jvisor.net;

import java.util.Optional;

/**
 * The kernel refused an rtnetlink request. Besides the errno and the operation it carries the
 * device the request was about, and the kernel's extended acknowledgement message when it sent one
 * (NLMSGERR_ATTR_MSG), for example {@code "Attribute failed policy validation"}.
 */
public final class NetlinkException extends NetException {
    private final String device;
    private final String kernelMessage;

    /**
     * @param operation what was being attempted, e.g. {@code "create bridge"}
     * @param device the device name the request was about; may be empty
     * @param errno the positive errno
     * @param kernelMessage the extended ack message; may be empty
     */
    public NetlinkException(String operation, String device, int errno, String kernelMessage) {
        this(operation, device, "", errno, kernelMessage);
    }

    /**
     * Same, with a note printed after the device, e.g. {@code "(peer 'eth1')"}.
     *
     * @param operation what was being attempted
     * @param device the device name; may be empty
     * @param note more about the request; may be empty
     * @param errno the positive errno
     * @param kernelMessage the extended ack message; may be empty
     */
    public NetlinkException(String operation, String device, String note, int errno, String kernelMessage) {
        super((device == null || device.isEmpty() ? operation : operation + " '" + device + "'")
                        + (note == null || note.isEmpty() ? "" : " " + note), errno,
                kernelMessage == null || kernelMessage.isEmpty() ? "" : "kernel says: " + kernelMessage);
        this.device = device == null ? "" : device;
        this.kernelMessage = kernelMessage == null ? "" : kernelMessage;
    }

    /** The device the request was about, or empty. */
    public String device() {
        return device;
    }

    /** The kernel's extended ack message, if it sent one. */
    public Optional<String> kernelMessage() {
        return kernelMessage.isEmpty() ? Optional.empty() : Optional.of(kernelMessage);
    }
}
