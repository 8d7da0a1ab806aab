package io.jvisor.bpf.asm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;

import static io.jvisor.bpf.asm.Register.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Decoding refuses every malformed instruction with a message naming the opcode and the field. */
class DecoderTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            d4 01 00 00 08 00 00 00 | opcode 0xd4): byte swap width must be 16, 32 or 64, not 8
            df 01 00 00 10 00 00 00 | BPF_END with source X is reserved in class ALU64
            07 31 00 00 05 00 00 00 | source register r3 is reserved (must be 0) for add with an immediate
            0f 21 00 00 05 00 00 00 | immediate 5 is reserved (must be 0) for add with a register source
            07 01 02 00 05 00 00 00 | offset 2 is reserved (must be 0) for add
            bc 21 20 00 00 00 00 00 | movsx sign-extends 8, 16 bits, not 32
            8f 21 00 00 00 00 00 00 | neg has no register-source (X) form
            e7 01 00 00 00 00 00 00 | no ALU operation 0xe0
            0d 00 01 00 00 00 00 00 | goto has no register-source (X) form
            06 00 01 00 05 00 00 00 | offset 1 is reserved (must be 0) for gotol
            86 00 00 00 01 00 00 00 | call is not defined in class JMP32
            85 30 00 00 01 00 00 00 | call source 3 is not a call kind
            85 10 04 00 01 00 00 00 | offset 4 is reserved (must be 0) for a helper or local call
            95 01 00 00 00 00 00 00 | destination register r1 is reserved (must be 0) for exit
            e5 10 01 00 00 00 00 00 | JCOND source 1 is not a condition
            f5 01 01 00 00 00 00 00 | no jump operation 0xf0
            38 00 00 00 04 00 00 00 | legacy packet loads are 1, 2 or 4 bytes wide, not 8
            20 01 00 00 04 00 00 00 | destination register r1 is reserved (must be 0) for an absolute packet load
            00 00 00 00 00 00 00 00 | LD IMM exists only as the 8-byte lddw
            99 21 00 00 00 00 00 00 | sign-extending loads are 1, 2 or 4 bytes wide, not 8
            61 21 00 00 09 00 00 00 | immediate 9 is reserved (must be 0) for a load
            a1 21 00 00 00 00 00 00 | mode 0xa0 is not defined for class LDX
            62 21 00 00 00 00 00 00 | source register r2 is reserved (must be 0) for a store of an immediate
            c3 21 00 00 02 00 00 00 | atomic operation 0x2 is not defined
            d3 21 00 00 00 00 00 00 | atomic operations are 4 or 8 bytes wide, not 1
            b7 0b 00 00 00 00 00 00 | register r11 does not exist
            18 71 00 00 00 00 00 00 00 00 00 00 00 00 00 00 | lddw source 7 is not a pseudo kind
            18 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 | the second slot of lddw must have zero opcode, registers and offset
            18 01 00 00 00 00 00 00 | lddw needs two slots, the code ends after one
            95 00 00 00 00 00 | the code ends inside the instruction (6 of 8 bytes)
            """)
    void invalidBytesAreNamed(String hex, String reason) {
        byte[] code = HexFormat.ofDelimiter(" ").parseHex(hex);
        assertThatThrownBy(() -> Insn.decode(code))
                .isInstanceOfSatisfying(InvalidInstructionException.class, e -> {
                    assertThat(e.slot()).isZero();
                    assertThat(e.opcode()).isEqualTo(code[0] & 0xff);
                    assertThat(e.getMessage()).startsWith("invalid instruction at slot 0 (opcode 0x").contains(reason);
                });
    }

    @Test
    void slotOfTheBadInstructionIsReported() {
        byte[] code = HexFormat.ofDelimiter(" ").parseHex(
                "18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 b7 00 00 00 00 00 00 00 d4 01 00 00 08 00 00 00");
        assertThatThrownBy(() -> Insn.decode(code)).isInstanceOfSatisfying(InvalidInstructionException.class,
                e -> assertThat(e.slot()).isEqualTo(3));
        List<Instruction> raw = List.of(new Instruction(Opcodes.LD_IMM64, R1, R0, 0, 0),
                new Instruction(0xd4, R1, R0, 0, 8));
        assertThatThrownBy(() -> Insn.decodeAll(raw)).isInstanceOfSatisfying(InvalidInstructionException.class,
                e -> assertThat(e.slot()).isEqualTo(2));
    }

    @Test
    void referencesStayOnLddwAndCalls() {
        Instruction lddw = new Instruction(Opcodes.LD_IMM64, R1, Register.of(Opcodes.PSEUDO_MAP_FD), (short) 0, 0, "m");
        assertThat(Insn.decode(lddw)).isEqualTo(Insn.LoadImm64.map(R1, "m"));
        Instruction call = new Instruction(Opcodes.JMP | Opcodes.CALL, R0, R1, (short) 0, -1, "f");
        assertThat(Insn.decode(call)).isEqualTo(Insn.Call.local("f"));
        assertThatThrownBy(() -> Insn.decode(new Instruction(0x95, R0, R0, (short) 0, 0, "x")))
                .hasMessageContaining("only lddw and call instructions carry a symbol reference");
        assertThatThrownBy(() -> Insn.decode(new Instruction(0xb7, R0, R0, 0, 1L << 40)))
                .hasMessageContaining("does not fit 32 bits");
    }

    @Test
    void recordsRefuseInvalidFields() {
        assertThatThrownBy(() -> new Insn.Jump(Width.W64, JumpOp.JEQ, R1, R2, 40000))
                .hasMessage("jump offset 40000 does not fit 16 bits");
        assertThatThrownBy(() -> new Insn.Call(Insn.Call.Kind.HELPER, 1, 2, null))
                .hasMessageContaining("only kfunc calls have an offset");
        assertThatThrownBy(() -> new Insn.ByteSwap(Insn.ByteSwap.Order.LE, 8, R1)).hasMessageContaining("not 8");
        assertThatThrownBy(() -> new Insn.Alu(Width.W64, AluOp.ADD, null, R1)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> Register.of(11)).hasMessageContaining("no register r11");
    }
}
