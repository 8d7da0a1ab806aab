package io.jvisor.bpf;

import io.jvisor.bpf.asm.Instruction;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What a program is, before it is loaded: immutable, no kernel involved.
 *
 * @param name up to 15 characters of {@code [A-Za-z0-9_.]}; may be empty
 * @param type the program type
 * @param expectedAttachType the attach type the program is verified for, or null
 * @param instructions the code; instructions may carry map references resolved at load time
 * @param license the license string; helpers marked GPL-only need a GPL-compatible one
 * @param btf BTF function and line info for the verifier and for source-level errors, or null
 * @param attachBtfId BTF id of the attach target in vmlinux (tp_btf, fentry), or 0
 * @param flags BPF_F_* program flags (e.g. {@link #SLEEPABLE}), usually 0
 */
public record ProgramSpec(String name, ProgramType type, AttachType expectedAttachType, List<Instruction> instructions,
                          String license, ProgramBtf btf, int attachBtfId, int flags) {
    /** BPF_F_SLEEPABLE: the program may sleep (required for syscall programs). */
    public static final int SLEEPABLE = 1 << 4;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]{0,15}");
    /** BPF_COMPLEXITY_LIMIT_INSNS: the most instructions a privileged program may have. */
    public static final int MAX_INSTRUCTIONS = 1_000_000;
    /** The license jvisor's own programs carry. */
    public static final String DEFAULT_LICENSE = "Dual BSD/GPL";

    public ProgramSpec {
        Objects.requireNonNull(type, "type");
        instructions = List.copyOf(instructions);
        name = name == null ? "" : name;
        license = license == null ? DEFAULT_LICENSE : license;
    }

    /** A spec without attach BTF id and flags. */
    public ProgramSpec(String name, ProgramType type, AttachType expectedAttachType, List<Instruction> instructions,
                       String license, ProgramBtf btf) {
        this(name, type, expectedAttachType, instructions, license, btf, 0, 0);
    }

    /** A spec with the default license and no BTF. */
    public static ProgramSpec of(String name, ProgramType type, AttachType expectedAttachType,
                                 List<Instruction> instructions) {
        return new ProgramSpec(name, type, expectedAttachType, instructions, DEFAULT_LICENSE, null);
    }

    /** This spec with other instructions. */
    public ProgramSpec withInstructions(List<Instruction> insns) {
        return new ProgramSpec(name, type, expectedAttachType, insns, license, btf, attachBtfId, flags);
    }

    /** This spec with another name. */
    public ProgramSpec withName(String newName) {
        return new ProgramSpec(newName, type, expectedAttachType, instructions, license, btf, attachBtfId, flags);
    }

    /** This spec with BTF func and line info. */
    public ProgramSpec withBtf(ProgramBtf newBtf) {
        return new ProgramSpec(name, type, expectedAttachType, instructions, license, newBtf, attachBtfId, flags);
    }

    /**
     * Checks what can be checked without the kernel.
     *
     * @throws InvalidSpecException naming the offending field
     */
    public void validate() {
        String what = "program '" + name + "' (" + type.kernelName() + ")";
        if (!NAME.matcher(name).matches()) {
            throw new InvalidSpecException(what, "name",
                    "'" + name + "' must be at most 15 characters of letters, digits, '_' and '.'");
        }
        if (instructions.isEmpty()) {
            throw new InvalidSpecException(what, "instructions", "a program needs at least one instruction");
        }
        int slots = Instruction.slots(instructions);
        if (slots > MAX_INSTRUCTIONS) {
            throw new InvalidSpecException(what, "instructions", slots + " instructions exceed the kernel's limit of "
                    + MAX_INSTRUCTIONS);
        }
        if (license.indexOf('\0') >= 0) {
            throw new InvalidSpecException(what, "license", "must not contain NUL");
        }
    }
}
