package io.jvisor.bpf.asm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static io.jvisor.bpf.asm.Register.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AssemblerTest {

    @Test
    void llvmSyntaxWithLabels() {
        List<Insn> program = Assembler.assemble("""
                # count down from 10
                    r0 = 0xa
                loop:
                    r0 += -1            // decrement
                    w1 = w0
                    if w1 s> 0x0 goto loop
                    r2 = *(u32 *)(r1 + 4)
                    *(u64 *)(r10 - 0x8) = r2
                    lock *(u64 *)(r10 - 8) += r2
                    r1 = 0x123456789 ll
                    goto +0x0 <done>
                done:
                    exit
                """);
        assertThat(program).containsExactly(
                new Insn.Alu(Width.W64, AluOp.MOV, R0, Imm.of(10)),
                new Insn.Alu(Width.W64, AluOp.ADD, R0, Imm.of(-1)),
                new Insn.Alu(Width.W32, AluOp.MOV, R1, R0),
                new Insn.Jump(Width.W32, JumpOp.JSGT, R1, Imm.of(0), -3),
                new Insn.Load(Size.W, R2, R1, 4),
                new Insn.Store(Size.DW, R10, -8, R2),
                new Insn.Atomic(Size.DW, AtomicOp.ADD, R10, -8, R2),
                Insn.LoadImm64.of(R1, 0x123456789L),
                new Insn.Goto(0),
                new Insn.Exit());
    }

    @Test
    void bpfConformanceDialect() {
        List<Insn> program = Assembler.assemble("""
                mov %r0, 0
                mov32 %r1, 0x80000000
                add64 %r0, %r1
                sdiv32 %r1, -3
                smod %r1, %r2
                neg32 %r0
                movsx832 %r2, %r1
                movsx3264 %r3, %r1
                be16 %r3
                le32 %r3
                swap64 %r3
                bswap16 %r3
                lddw %r4, 0x123456789abcdef0
                ldxsb %r5, [%r10-1]
                ldxdw %r5, [%r1]
                stxdw [%r10-8], %r5
                stw [%r10+4], -1
                lock add32 [%r10-8], %r1
                lock fetch or [%r10-8], %r1
                lock xchg [%r10-8], %r1
                lock cmpxchg32 [%r10-8], %r1
                jeq32 %r1, 0x80000000, target   # imm is a bit pattern
                ja32 target
                call local func
                call 1
                call helper 2
                call runtime 5
                call %r2
                jne %r0, 0, exit
                target:
                exit
                func:
                mov %r0, 7
                exit
                """);
        assertThat(program).containsExactly(
                new Insn.Alu(Width.W64, AluOp.MOV, R0, Imm.of(0)),
                new Insn.Alu(Width.W32, AluOp.MOV, R1, Imm.of(Integer.MIN_VALUE)),
                new Insn.Alu(Width.W64, AluOp.ADD, R0, R1),
                new Insn.Alu(Width.W32, AluOp.SDIV, R1, Imm.of(-3)),
                new Insn.Alu(Width.W64, AluOp.SMOD, R1, R2),
                new Insn.Neg(Width.W32, R0),
                new Insn.MovSx(Width.W32, Size.B, R2, R1),
                new Insn.MovSx(Width.W64, Size.W, R3, R1),
                new Insn.ByteSwap(Insn.ByteSwap.Order.BE, 16, R3),
                new Insn.ByteSwap(Insn.ByteSwap.Order.LE, 32, R3),
                new Insn.ByteSwap(Insn.ByteSwap.Order.BSWAP, 64, R3),
                new Insn.ByteSwap(Insn.ByteSwap.Order.BSWAP, 16, R3),
                Insn.LoadImm64.of(R4, 0x123456789abcdef0L),
                new Insn.LoadSx(Size.B, R5, R10, -1),
                new Insn.Load(Size.DW, R5, R1, 0),
                new Insn.Store(Size.DW, R10, -8, R5),
                new Insn.Store(Size.W, R10, 4, Imm.of(-1)),
                new Insn.Atomic(Size.W, AtomicOp.ADD, R10, -8, R1),
                new Insn.Atomic(Size.DW, AtomicOp.FETCH_OR, R10, -8, R1),
                new Insn.Atomic(Size.DW, AtomicOp.XCHG, R10, -8, R1),
                new Insn.Atomic(Size.W, AtomicOp.CMPXCHG, R10, -8, R1),
                new Insn.Jump(Width.W32, JumpOp.JEQ, R1, Imm.of(Integer.MIN_VALUE), 7),
                new Insn.GotoLong(6),
                Insn.Call.local(6),
                Insn.Call.helper(1),
                Insn.Call.helper(2),
                Insn.Call.kfunc(5),
                new Insn.CallX(R2),
                new Insn.Jump(Width.W64, JumpOp.JNE, R0, Imm.of(0), 0),
                new Insn.Exit(),
                new Insn.Alu(Width.W64, AluOp.MOV, R0, Imm.of(7)),
                new Insn.Exit());
    }

    @Test
    void symbolsBecomeReferencesOrHelperCalls() {
        List<Insn> program = Assembler.assemble("""
                r1 = counters ll
                r2 = .data + 0x10 ll
                call bpf_map_lookup_elem
                call helper_sum
                call local other
                ld_pseudo r3, 2, .bss, 8
                exit
                """);
        assertThat(program).containsExactly(
                new Insn.LoadImm64(R1, Insn.LoadImm64.Kind.VALUE, 0, "counters"),
                new Insn.LoadImm64(R2, Insn.LoadImm64.Kind.VALUE, 16, ".data"),
                Insn.Call.helper(Helper.MAP_LOOKUP_ELEM),
                Insn.Call.local("helper_sum"),
                Insn.Call.local("other"),
                Insn.LoadImm64.mapValue(R3, ".bss", 8),
                new Insn.Exit());
    }

    @Test
    void objdumpListingWithRelocationsAndCallKindsFromTheBytes() {
        String listing = """

                prog.o:\tfile format elf64-bpf

                Disassembly of section xdp:

                0000000000000000 <prog>:
                       0:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0x0 ll
                \t\t0000000000000000:  R_BPF_64_64\tcounters
                       2:\t85 10 00 00 01 00 00 00\tcall 0x1
                \t\t0000000000000010:  R_BPF_64_32\t.text
                       3:\t85 00 00 00 01 00 00 00\tcall 0x1
                       4:\t15 00 01 00 00 00 00 00\tif r0 == 0x0 goto +0x1 <prog+0x30>
                       5:\t95 00 00 00 00 00 00 00\texit

                0000000000000030 <LBB0_2>:
                       6:\tb7 00 00 00 02 00 00 00\tr0 = 0x2
                       7:\t95 00 00 00 00 00 00 00\texit
                """;
        assertThat(Assembler.assemble(listing)).containsExactly(
                new Insn.LoadImm64(R1, Insn.LoadImm64.Kind.VALUE, 0, "counters"),
                new Insn.Call(Insn.Call.Kind.LOCAL, 1, 0, ".text"),
                Insn.Call.helper(1),
                new Insn.Jump(Width.W64, JumpOp.JEQ, R0, Imm.of(0), 1),
                new Insn.Exit(),
                new Insn.Alu(Width.W64, AluOp.MOV, R0, Imm.of(2)),
                new Insn.Exit());
    }

    @Test
    void llvm14DecimalOutputIsAccepted() {
        assertThat(Assembler.assemble("""
                       0:\t61 12 04 00 00 00 00 00\tr2 = *(u32 *)(r1 + 4)
                       1:\t2d 21 4c 00 00 00 00 00\tif r1 > r2 goto +76 <LBB0_8>
                       2:\t18 01 00 00 44 33 22 11 00 00 00 00 55 00 00 00\tr1 = 365359674180 ll
                """)).containsExactly(
                new Insn.Load(Size.W, R2, R1, 4),
                new Insn.Jump(Width.W64, JumpOp.JGT, R1, R2, 76),
                Insn.LoadImm64.of(R1, 365359674180L));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            r1 = = 3                         | 2 | cannot read the right-hand side '='
            frobnicate %r1                   | 2 | unknown instruction 'frobnicate'
            r11 = 1                          | 2 | register r11 does not exist
            mov %r12, 1                      | 2 | register r12 does not exist
            goto nowhere                     | 2 | undefined label 'nowhere'
            r1 = *(u32 *)(r2 + 0x8000)       | 2 | offset 32768 does not fit 16 bits
            r1 += 0x100000000                | 2 | immediate 4294967296 does not fit 32 bits
            r1 += w2                         | 2 | mixed register widths
            w1 = 5 ll                        | 2 | lddw loads 64 bits
            r1 = counters                    | 2 | a symbol operand needs 'll'
            r1 = -r2                         | 2 | neg works in place
            r1 = le8 r1                      | 2 | unknown operation 'le8'
            lock *(u16 *)(r1 + 0) += r2      | 2 | atomic operations are 4 or 8 bytes wide
            r1 = *(s64 *)(r2 + 0)            | 2 | sign-extending loads are 1, 2 or 4 bytes wide
            w1 = (s32)w2                     | 2 | movsx cannot sign-extend 32 bits into 32
            .section xdp                     | 2 | assembler directives are not supported
            <unknown>                        | 2 | llvm-objdump could not decode
            if r1 ~ r2 goto +1               | 2 | unknown comparison '~'
            exit 1                           | 2 | unexpected '1'
            """)
    void errorsNameTheLineAndText(String line, int lineNo, String reason) {
        String source = "exit\n" + line + "\nexit\n";
        assertThatThrownBy(() -> Assembler.assemble(source))
                .isInstanceOfSatisfying(AssemblyException.class, e -> {
                    assertThat(e.line()).isEqualTo(lineNo);
                    assertThat(e.text()).isEqualTo(line);
                    assertThat(e.getMessage()).startsWith("line " + lineNo + ": ").contains(reason).endsWith(line);
                });
    }

    @Test
    void duplicateLabelsAndStrayRelocationsAreRefused() {
        assertThatThrownBy(() -> Assembler.assemble("a:\nexit\na:\nexit\n"))
                .isInstanceOf(AssemblyException.class).hasMessageContaining("line 3: label 'a' is already defined at line 1");
        assertThatThrownBy(() -> Assembler.assemble("\t\t0000000000000000:  R_BPF_64_64\tcounters\n"))
                .hasMessageContaining("line 1: relocation before any instruction");
        assertThatThrownBy(() -> Assembler.assemble("exit\n\t\t0000000000000000:  R_BPF_64_64\tcounters\n"))
                .hasMessageContaining("line 2: only lddw and call instructions take a relocation");
        assertThatThrownBy(() -> Assembler.assemble("       0:\t95 00 00 00 00 00 00 00\tr0 = 0x0\n"))
                .hasMessageContaining("the text assembles to b7 00 00 00 00 00 00 00 but the listing's bytes are 95");
        assertThatThrownBy(() -> Assembler.assemble("\t\t...\n")).hasMessageContaining("skipped zero bytes");
    }

    @Test
    void jumpsOutOfReachAreRefused() {
        StringBuilder far = new StringBuilder("goto end\n");
        far.append("r0 = 0\n".repeat(33000)).append("end:\nexit\n");
        assertThatThrownBy(() -> Assembler.assemble(far.toString()))
                .hasMessageContaining("line 1: label 'end' is out of reach");
        assertThat(Assembler.assemble(far.toString().replace("goto end", "gotol end")).getFirst())
                .isEqualTo(new Insn.GotoLong(33000));
    }

    @Test
    void assembleBytesWritesRawInstructionsAndRefusesReferences() {
        assertThat(Assembler.assembleBytes("r0 = 2\nexit\n")).containsExactly(
                0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
        assertThatThrownBy(() -> Assembler.assembleBytes("r1 = counters ll\nexit\n"))
                .hasMessageContaining("symbol 'counters' is not resolved");
    }
}
