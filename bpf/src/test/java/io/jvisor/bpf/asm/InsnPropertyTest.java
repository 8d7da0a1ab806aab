package io.jvisor.bpf.asm;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Round trips over generated instructions of every kind: raw encoding, bytes, and text. */
class InsnPropertyTest {

    @Provide
    Arbitrary<Insn> anyInsn() {
        return InsnArbitraries.instructions();
    }

    @Provide
    Arbitrary<List<Insn>> anyProgram() {
        return InsnArbitraries.programs();
    }

    @Provide
    Arbitrary<byte[]> anySlot() {
        return Arbitraries.bytes().array(byte[].class).ofSize(16);
    }

    @Property
    void decodeOfEncodeIsIdentity(@ForAll("anyInsn") Insn insn) {
        assertThat(Insn.decode(insn.instruction())).isEqualTo(insn);
    }

    @Property
    void bytesRoundTripWithoutReferences(@ForAll("anyInsn") Insn insn) {
        byte[] bytes = Insn.encode(List.of(insn));
        assertThat(bytes).hasSize(insn.slots() * Instruction.SLOT);
        assertThat(Insn.decode(bytes)).containsExactly(withoutReference(insn));
    }

    @Property
    void assembleOfDisassembleIsIdentity(@ForAll("anyInsn") Insn insn) {
        String text = Disassembler.disassemble(List.of(insn));
        assertThat(Assembler.assemble(text)).as(text).containsExactly(insn);
    }

    @Property(tries = 300)
    void programsRoundTrip(@ForAll("anyProgram") List<Insn> program) {
        assertThat(Assembler.assemble(Disassembler.disassemble(program))).isEqualTo(program);
        List<Insn> plain = program.stream().map(InsnPropertyTest::withoutReference).toList();
        assertThat(Insn.decode(Insn.encode(program))).isEqualTo(plain);
        assertThat(Insn.decodeAll(Insn.instructions(program))).isEqualTo(program);
    }

    @Property(tries = 300)
    void listingsOfValidCodeAssembleToTheSameBytes(@ForAll("anyProgram") List<Insn> program) {
        byte[] code = Insn.encode(program);
        String listing = Disassembler.listing(new Disassembler.Section("prog", code, List.of(), List.of()), false);
        assertThat(listing).doesNotContain("<unknown>");
        assertThat(Insn.encode(Assembler.assemble(listing))).isEqualTo(code);
    }

    /** Decoding is total: any bytes give an instruction that encodes back to them, or InvalidInstructionException. */
    @Property(tries = 3000)
    void decodingAnyBytesIsTotalAndExact(@ForAll("anySlot") byte[] bytes) {
        byte[] one = bytes[0] == Opcodes.LD_IMM64 ? bytes : java.util.Arrays.copyOf(bytes, 8);
        List<Insn> decoded;
        try {
            decoded = Insn.decode(one);
        } catch (InvalidInstructionException e) {
            assertThat(e.getMessage()).contains("opcode 0x").contains("slot 0");
            return;
        }
        assertThat(Insn.encode(decoded)).isEqualTo(one);
        assertThat(Assembler.assemble(Disassembler.disassemble(decoded))).isEqualTo(decoded);
    }

    /** Listings of arbitrary bytes never fail, whatever the bytes are. */
    @Property(tries = 300)
    void listingNeverFails(@ForAll("anySlot") byte[] a, @ForAll("anySlot") byte[] b) {
        byte[] code = new byte[a.length + b.length + 3];
        System.arraycopy(a, 0, code, 0, a.length);
        System.arraycopy(b, 0, code, a.length, b.length);
        String listing = Disassembler.listing(new Disassembler.Section(".text", code, List.of(), List.of()), true);
        assertThat(listing).startsWith("\nDisassembly of section .text:\n");
    }

    static Insn withoutReference(Insn insn) {
        return switch (insn) {
            case Insn.LoadImm64 l -> new Insn.LoadImm64(l.dst(), l.kind(), l.imm(), null);
            case Insn.Call c -> new Insn.Call(c.kind(), c.imm(), c.offset(), null);
            default -> insn;
        };
    }

    @SuppressWarnings("unused")
    private static List<Insn> copy(List<Insn> p) {
        return new ArrayList<>(p);
    }
}
