package io.jvisor.bpf.asm;

import java.util.Locale;

/**
 * A raw instruction that is not a valid eBPF instruction: an unassigned opcode, a field out of
 * range, or a reserved field that is not zero. The message names the opcode and, when known, the
 * slot of the instruction in its program.
 */
public final class InvalidInstructionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final int opcode;
    private final int slot;
    private final String reason;

    /**
     * An invalid instruction.
     *
     * @param opcode the 8-bit opcode
     * @param slot the slot in the program, or -1 if unknown
     * @param reason what is wrong with it
     */
    public InvalidInstructionException(int opcode, int slot, String reason) {
        super(message(opcode, slot, reason));
        this.opcode = opcode;
        this.slot = slot;
        this.reason = reason;
    }

    private static String message(int opcode, int slot, String reason) {
        return "invalid instruction" + (slot >= 0 ? " at slot " + slot : "")
                + String.format(Locale.ROOT, " (opcode 0x%02x): ", opcode) + reason;
    }

    /** The opcode of the invalid instruction. */
    public int opcode() {
        return opcode;
    }

    /** The slot of the instruction in its program, or -1 if unknown. */
    public int slot() {
        return slot;
    }

    /** What is wrong, without the opcode and slot. */
    public String reason() {
        return reason;
    }

    /** This exception, placed at {@code slot} of a program. */
    public InvalidInstructionException atSlot(int newSlot) {
        return new InvalidInstructionException(opcode, newSlot, reason);
    }
}
