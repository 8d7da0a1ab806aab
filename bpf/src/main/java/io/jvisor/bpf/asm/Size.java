package io.jvisor.bpf.asm;

/** The access size of a load, store or atomic instruction (the size bits of the opcode). */
public enum Size {
    /** One byte ({@code u8}). */
    B(Opcodes.B, 1),
    /** Two bytes ({@code u16}). */
    H(Opcodes.H, 2),
    /** Four bytes ({@code u32}). */
    W(Opcodes.W, 4),
    /** Eight bytes ({@code u64}). */
    DW(Opcodes.DW, 8);

    private final int code;
    private final int bytes;

    Size(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** The size bits of the opcode. */
    public int code() {
        return code;
    }

    /** The access size in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The access size in bits. */
    public int bits() {
        return bytes * 8;
    }

    /** The size whose opcode bits are {@code opcode & 0x18}. */
    public static Size ofOpcode(int opcode) {
        return switch (opcode & 0x18) {
            case Opcodes.W -> W;
            case Opcodes.H -> H;
            case Opcodes.B -> B;
            default -> DW;
        };
    }

    /** The size of {@code bytes} bytes (1, 2, 4 or 8). */
    public static Size ofBytes(int bytes) {
        return switch (bytes) {
            case 1 -> B;
            case 2 -> H;
            case 4 -> W;
            case 8 -> DW;
            default -> throw new IllegalArgumentException("no access size of " + bytes + " bytes");
        };
    }
}
