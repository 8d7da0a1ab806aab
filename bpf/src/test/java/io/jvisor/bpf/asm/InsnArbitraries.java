package io.jvisor.bpf.asm;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.List;

/** jqwik generators for every kind of instruction, over the full range of each field. */
final class InsnArbitraries {
    private InsnArbitraries() {}

    static Arbitrary<Register> registers() {
        return Arbitraries.of(Register.values());
    }

    static Arbitrary<Width> widths() {
        return Arbitraries.of(Width.values());
    }

    static Arbitrary<Integer> imm32() {
        return Arbitraries.integers().withDistribution(net.jqwik.api.RandomDistribution.uniform());
    }

    static Arbitrary<Integer> imm() {
        return Arbitraries.oneOf(imm32(), Arbitraries.integers().between(-300, 300));
    }

    static Arbitrary<Integer> off16() {
        return Arbitraries.integers().between(Short.MIN_VALUE, Short.MAX_VALUE);
    }

    static Arbitrary<Operand> operands() {
        return Arbitraries.oneOf(registers().map(r -> (Operand) r), imm().map(k -> (Operand) new Imm(k)));
    }

    static Arbitrary<String> symbols() {
        Arbitrary<String> name = Arbitraries.strings().withCharRange('a', 'z').withChars('_', '.').ofMinLength(0)
                .ofMaxLength(12);
        return Combinators.combine(Arbitraries.of("m", "map_", "_", ".data", "func"), name).as(String::concat);
    }

    static Arbitrary<String> references() {
        return Arbitraries.oneOf(Arbitraries.just((String) null), symbols());
    }

    static Arbitrary<Insn> alu() {
        return Combinators.combine(widths(), Arbitraries.of(AluOp.values()), registers(), operands())
                .as(Insn.Alu::new);
    }

    static Arbitrary<Insn> neg() {
        return Combinators.combine(widths(), registers()).as(Insn.Neg::new);
    }

    static Arbitrary<Insn> movSx() {
        return widths().flatMap(w -> Combinators.combine(
                w == Width.W64 ? Arbitraries.of(Size.B, Size.H, Size.W) : Arbitraries.of(Size.B, Size.H),
                registers(), registers()).as((from, d, s) -> new Insn.MovSx(w, from, d, s)));
    }

    static Arbitrary<Insn> byteSwap() {
        return Combinators.combine(Arbitraries.of(Insn.ByteSwap.Order.values()), Arbitraries.of(16, 32, 64), registers())
                .as(Insn.ByteSwap::new);
    }

    static Arbitrary<Insn> jump() {
        return Combinators.combine(widths(), Arbitraries.of(JumpOp.values()), registers(), operands(), off16())
                .as(Insn.Jump::new);
    }

    static Arbitrary<Insn> gotos() {
        return Arbitraries.oneOf(off16().map(Insn.Goto::new), imm32().map(Insn.GotoLong::new),
                off16().map(Insn.MayGoto::new));
    }

    static Arbitrary<Insn> calls() {
        Arbitrary<Insn> helperOrLocal = Combinators.combine(
                Arbitraries.of(Insn.Call.Kind.HELPER, Insn.Call.Kind.LOCAL), imm(), references())
                .as((kind, imm, ref) -> new Insn.Call(kind, imm, 0, ref));
        Arbitrary<Insn> kfunc = Combinators.combine(imm32(), off16(), references())
                .as((imm, off, ref) -> new Insn.Call(Insn.Call.Kind.KFUNC, imm, off, ref));
        return Arbitraries.oneOf(helperOrLocal, kfunc, registers().map(Insn.CallX::new),
                Arbitraries.just(new Insn.Exit()));
    }

    static Arbitrary<Insn> memory() {
        Arbitrary<Size> sizes = Arbitraries.of(Size.values());
        Arbitrary<Insn> load = Combinators.combine(sizes, registers(), registers(), off16()).as(Insn.Load::new);
        Arbitrary<Insn> loadSx = Combinators.combine(Arbitraries.of(Size.B, Size.H, Size.W), registers(), registers(),
                off16()).as(Insn.LoadSx::new);
        Arbitrary<Insn> store = Combinators.combine(sizes, registers(), off16(), operands()).as(Insn.Store::new);
        Arbitrary<Insn> atomic = Combinators.combine(Arbitraries.of(Size.W, Size.DW), Arbitraries.of(AtomicOp.values()),
                registers(), off16(), registers()).as(Insn.Atomic::new);
        Arbitrary<Insn> acquire = Combinators.combine(sizes, registers(), registers(), off16()).as(Insn.LoadAcquire::new);
        Arbitrary<Insn> release = Combinators.combine(sizes, registers(), off16(), registers()).as(Insn.StoreRelease::new);
        return Arbitraries.oneOf(load, loadSx, store, atomic, acquire, release);
    }

    static Arbitrary<Insn> loadImm64() {
        Arbitrary<Long> imm = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(-70000, 70000),
                Arbitraries.longs().between(0, 0xffffffffL));
        return Combinators.combine(registers(), Arbitraries.of(Insn.LoadImm64.Kind.values()), imm, references())
                .as(Insn.LoadImm64::new);
    }

    static Arbitrary<Insn> packet() {
        Arbitrary<Size> sizes = Arbitraries.of(Size.B, Size.H, Size.W);
        return Arbitraries.oneOf(Combinators.combine(sizes, imm()).as(Insn.LoadAbs::new),
                Combinators.combine(sizes, registers(), imm()).as(Insn.LoadInd::new));
    }

    /** Any valid instruction, every kind about equally likely. */
    static Arbitrary<Insn> instructions() {
        return Arbitraries.oneOf(List.of(alu(), neg(), movSx(), byteSwap(), jump(), gotos(), calls(), memory(),
                loadImm64(), packet()));
    }

    /** Programs of up to 40 instructions. */
    static Arbitrary<List<Insn>> programs() {
        return instructions().list().ofMaxSize(40);
    }
}
