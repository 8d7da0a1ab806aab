package io.jvisor.bpf.asm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jvisor.bpf.asm.Register.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AsmTest {

    @Test
    void typedMethodsCoverTheIsa() {
        List<Insn> program = new Asm()
                .mov32(R1, R2)
                .alu32(AluOp.SDIV, R1, -3)
                .alu64(AluOp.ARSH, R1, R2)
                .neg32(R1)
                .neg64(R1)
                .movSx(Width.W64, Size.W, R3, R1)
                .toLe(16, R3)
                .toBe(32, R3)
                .bswap(64, R3)
                .load(Size.H, R4, R1, 2)
                .loadSx(Size.B, R4, R1, -1)
                .store(Size.W, R10, -4, R4)
                .store(Size.DW, R10, -8, 7)
                .atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R4)
                .loadAcquire(Size.B, R5, R10, -8)
                .storeRelease(Size.H, R10, -8, R5)
                .ldAbs(Size.B, 12)
                .ldInd(Size.W, R6, 4)
                .ldMapValue(R1, "config", 16)
                .ldMapValue(R1, 5, 8)
                .kfunc(1234)
                .callx(R1)
                .buildInsns();
        assertThat(program).containsExactly(
                new Insn.Alu(Width.W32, AluOp.MOV, R1, R2),
                new Insn.Alu(Width.W32, AluOp.SDIV, R1, Imm.of(-3)),
                new Insn.Alu(Width.W64, AluOp.ARSH, R1, R2),
                new Insn.Neg(Width.W32, R1),
                new Insn.Neg(Width.W64, R1),
                new Insn.MovSx(Width.W64, Size.W, R3, R1),
                new Insn.ByteSwap(Insn.ByteSwap.Order.LE, 16, R3),
                new Insn.ByteSwap(Insn.ByteSwap.Order.BE, 32, R3),
                new Insn.ByteSwap(Insn.ByteSwap.Order.BSWAP, 64, R3),
                new Insn.Load(Size.H, R4, R1, 2),
                new Insn.LoadSx(Size.B, R4, R1, -1),
                new Insn.Store(Size.W, R10, -4, R4),
                new Insn.Store(Size.DW, R10, -8, Imm.of(7)),
                new Insn.Atomic(Size.DW, AtomicOp.CMPXCHG, R10, -8, R4),
                new Insn.LoadAcquire(Size.B, R5, R10, -8),
                new Insn.StoreRelease(Size.H, R10, -8, R5),
                new Insn.LoadAbs(Size.B, 12),
                new Insn.LoadInd(Size.W, R6, 4),
                new Insn.LoadImm64(R1, Insn.LoadImm64.Kind.MAP_VALUE, 16L << 32, "config"),
                new Insn.LoadImm64(R1, Insn.LoadImm64.Kind.MAP_VALUE, 5 | 8L << 32, null),
                Insn.Call.kfunc(1234),
                new Insn.CallX(R1));
    }

    @Test
    void labelsResolveForJumpsCallsAndFunctionPointers() {
        List<Insn> program = new Asm()
                .ldFunc(R2, "callback")          // slots 0-1
                .jmp32(JumpOp.JNE, R1, 0, "out")  // 2
                .jmp(JumpOp.JGT, R1, R2, "out")   // 3
                .gotol("out")                     // 4
                .mayGoto("out")                   // 5
                .callLocal("callback")            // 6
                .label("out")
                .exit()                           // 7
                .label("callback")
                .mov64(R0, 0)                     // 8
                .exit()
                .buildInsns();
        assertThat(program).containsExactly(
                // the kernel counts a function address from the lddw's second slot: target = i + imm + 1
                new Insn.LoadImm64(R2, Insn.LoadImm64.Kind.FUNC, 7, null),
                new Insn.Jump(Width.W32, JumpOp.JNE, R1, Imm.of(0), 4),
                new Insn.Jump(Width.W64, JumpOp.JGT, R1, R2, 3),
                new Insn.GotoLong(2),
                new Insn.MayGoto(1),
                Insn.Call.local(1),
                new Insn.Exit(),
                new Insn.Alu(Width.W64, AluOp.MOV, R0, Imm.of(0)),
                new Insn.Exit());
        assertThat(new Asm().label("top").callLocal("top").build().getFirst().imm()).isEqualTo(-1);
        assertThat(new Asm().label("top").ldFunc(R1, "top").build().getFirst().imm()).isEqualTo(0xffffffffL);
    }

    @Test
    void intConstantMethodsEncodeAsBefore() {
        List<Instruction> raw = new Asm()
                .mov64(R0, 2)
                .alu64(Opcodes.AND, R0, 0xff)
                .ldx(Opcodes.W, R2, R1, 4)
                .stx(Opcodes.DW, R10, -8, R2)
                .st(Opcodes.B, R10, -1, 1)
                .atomicAdd(Opcodes.DW, R10, -8, R2)
                .ldMap(R1, "counts")
                .jmp(Opcodes.JEQ, R0, 0, "end")
                .call(Helper.MAP_LOOKUP_ELEM)
                .label("end")
                .exit()
                .build();
        assertThat(Disassembler.disassemble(Insn.decodeAll(raw))).isEqualTo("""
                r0 = 0x2
                r0 &= 0xff
                r2 = *(u32 *)(r1 + 0x4)
                *(u64 *)(r10 - 0x8) = r2
                *(u8 *)(r10 - 0x1) = 0x1
                lock *(u64 *)(r10 - 0x8) += r2
                ld_pseudo\tr1, 0x1, 0x0
                \t\t0000000000000030:  R_BPF_64_64\tcounts
                if r0 == 0x0 goto +0x1
                call 0x1
                exit
                """);
    }

    @Test
    void badLabelsAreRefused() {
        assertThatThrownBy(() -> new Asm().ja("nowhere").build()).hasMessage("undefined label: nowhere");
        assertThatThrownBy(() -> new Asm().label("a").label("a")).hasMessage("label defined twice: a");
        assertThatThrownBy(() -> new Asm().raw(new Instruction(0xd4, R1, R0, 0, 8)).buildInsns())
                .isInstanceOf(InvalidInstructionException.class);
    }
}
