package io.jvisor.bpf.btf;

import io.jvisor.bpf.TestRun;
import io.jvisor.bpf.elf.Collection;
import io.jvisor.bpf.elf.CollectionOptions;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.TestObjects;
import io.jvisor.bpf.features.KernelVersion;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** BTF sanitizing: kinds an older kernel lacks are rewritten into kinds it has, as libbpf does. */
class BtfSanitizerTest {
    @Test
    void clangLeavesDatasecSizesThatTheParserFillsIn() {
        CollectionSpec spec = TestObjects.spec("globals.c");
        BtfType.DataSec rodata = (BtfType.DataSec) spec.btf().type(spec.btf().find(BtfKind.DATASEC, ".rodata").orElseThrow());
        assertThat(rodata.size()).isEqualTo(16);
        assertThat(rodata.vars()).extracting(BtfType.VarSecInfo::offset).containsExactly(0, 8);
    }

    @Test
    void featuresOfAnOldKernelRemoveTheKindsItLacks() throws Exception {
        Btf btf = TestObjects.spec("globals.c").btf();
        assertThat(btf.types()).anyMatch(t -> t.kind() == BtfKind.DATASEC);
        Btf old = BtfSanitizer.sanitize(btf, Map.of(), Map.of(), BtfFeatures.of(KernelVersion.parse("4.19.0")));
        assertThat(old.types()).hasSameSizeAs(btf.types());
        assertThat(old.types()).noneMatch(t -> t.kind() == BtfKind.DATASEC || t.kind() == BtfKind.VAR
                || t.kind() == BtfKind.FUNC || t.kind() == BtfKind.FUNC_PROTO);
        // DATASEC became a struct whose members are the variables, at their offsets in bits
        BtfType.Struct rodata = (BtfType.Struct) old.type(btf.find(BtfKind.DATASEC, ".rodata").orElseThrow());
        assertThat(rodata.name()).isEqualTo("_rodata");
        assertThat(rodata.members()).extracting(BtfType.Member::name).containsExactly("verdict", "magic");
        assertThat(rodata.members()).extracting(BtfType.Member::bitOffset).containsExactly(0, 64);
        // a current kernel keeps everything
        Btf current = BtfSanitizer.sanitize(btf, Map.of(), Map.of(), BtfFeatures.ALL);
        assertThat(current.raw()).isEqualTo(btf.raw());
    }

    @Test
    @RequiresRoot
    void anObjectLoadsWithBtfSanitizedForAKernelWithoutDatasec() {
        // 5.1 has FUNC (so func_info still loads) but no DATASEC and VAR.
        CollectionOptions options = new CollectionOptions(CollectionOptions.DEFAULT.programOptions(), Map.of(), null,
                BtfFeatures.of(KernelVersion.parse("5.1.0")));
        try (Collection c = Collection.load(TestObjects.spec("globals.c"), options)) {
            byte[] frame = new byte[60];
            assertThat(c.program("xdp_globals").testRun(TestRun.of(frame)).returnValue()).isEqualTo(2);
            // the program still carries its BTF (func and line info)
            assertThat(c.program("xdp_globals").info().btfId()).isPositive();
        }
    }
}
