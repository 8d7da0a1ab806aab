package io.jvisor.bpf.btf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Prepares an object's BTF for BPF_BTF_LOAD, the way libbpf does:
 * <ul>
 *   <li>clang leaves each DATASEC's size and its variables' offsets at 0: they are filled in from the
 *       ELF section sizes and symbol values, and the variables sorted by offset (the kernel insists);</li>
 *   <li>kinds the kernel does not know are rewritten into kinds it does ({@link BtfFeatures}).</li>
 * </ul>
 * The input is never modified: a new {@link Btf} comes back.
 */
public final class BtfSanitizer {
    private BtfSanitizer() {}

    private static final int INT = 1, STRUCT = 4, UNION = 5, ENUM = 6, TYPEDEF = 8, CONST = 10, FUNC = 12,
            ENUM_KIND = 6;

    /**
     * Fills in DATASEC sizes and variable offsets and rewrites unsupported kinds.
     *
     * @param sectionSizes ELF section sizes by section name
     * @param symbolOffsets ELF symbol values by symbol name (data variables and maps)
     * @throws BtfFormatException when a DATASEC names a section or variable the ELF file lacks
     */
    public static Btf sanitize(Btf btf, Map<String, Long> sectionSizes, Map<String, Long> symbolOffsets,
                               BtfFeatures features) throws BtfFormatException {
        byte[] raw = btf.raw();
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int base = btf.typeStart();
        List<BtfType> types = btf.types();
        boolean needsPlaceholder = false;
        for (int id = 1; id < types.size(); id++) {
            int at = base + btf.typeOffset(id);
            BtfType t = types.get(id);
            switch (t) {
                case BtfType.DataSec ds -> {
                    fixDataSec(btf, b, at, ds, sectionSizes, symbolOffsets);
                    if (!features.datasec()) {
                        // DATASEC becomes a STRUCT whose members are the variables.
                        int vlen = ds.vars().size();
                        b.putInt(at + 4, info(STRUCT, vlen, false));
                        for (int i = 0; i < vlen; i++) {
                            int p = at + 12 + 12 * i;
                            int varType = b.getInt(p);
                            int off = b.getInt(p + 4);
                            int varNameOff = b.getInt(base + btf.typeOffset(varType));
                            b.putInt(p, varNameOff);
                            b.putInt(p + 4, varType);
                            b.putInt(p + 8, off * 8);
                        }
                        dotsToUnderscores(btf, raw, b.getInt(at));
                    }
                }
                case BtfType.Var v when !features.datasec() -> toInt(b, at);
                case BtfType.DeclTag d when !features.declTag() -> toInt(b, at);
                case BtfType.FuncProto fp when !features.func() -> {
                    b.putInt(at + 4, info(ENUM, fp.params().size(), false));
                    b.putInt(at + 8, 4);
                }
                case BtfType.Func f when !features.func() -> b.putInt(at + 4, info(TYPEDEF, 0, false));
                case BtfType.Func f when !features.globalFunc() -> b.putInt(at + 4, info(FUNC, 0, false));
                case BtfType.Float f when !features.floats() -> {
                    b.putInt(at, 0);
                    b.putInt(at + 4, info(STRUCT, 0, false));
                }
                case BtfType.Qualifier q when q.kind() == BtfKind.TYPE_TAG && !features.typeTag() -> {
                    b.putInt(at, 0);
                    b.putInt(at + 4, info(CONST, 0, false));
                }
                case BtfType.Enum e when !e.wide() && !features.enum64() ->
                        b.putInt(at + 4, info(ENUM_KIND, e.values().size(), false));
                case BtfType.Enum e when e.wide() && !features.enum64() -> {
                    // ENUM64 becomes a union of placeholder ints, appended below.
                    needsPlaceholder = true;
                    b.putInt(at + 4, info(UNION, e.values().size(), false));
                    for (int i = 0; i < e.values().size(); i++) {
                        b.putInt(at + 12 + 12 * i + 4, types.size());
                        b.putInt(at + 12 + 12 * i + 8, 0);
                    }
                }
                default -> { }
            }
        }
        if (needsPlaceholder) {
            raw = appendPlaceholderInt(btf, raw);
        }
        return Btf.parse(raw);
    }

    private static void fixDataSec(Btf btf, ByteBuffer b, int at, BtfType.DataSec ds, Map<String, Long> sectionSizes,
                                   Map<String, Long> symbolOffsets) throws BtfFormatException {
        if (ds.name().equals(".kconfig") || ds.name().equals(".ksyms")) {
            return;
        }
        boolean fixOffsets = false;
        if (ds.size() == 0) {
            Long size = sectionSizes.get(ds.name());
            if (size == null) {
                throw new BtfFormatException(".BTF: DATASEC '" + ds.name() + "' has no ELF section of that name");
            }
            b.putInt(at + 8, (int) (long) size);
            fixOffsets = true;
        }
        record Entry(int type, int offset, int size) {}
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < ds.vars().size(); i++) {
            int p = at + 12 + 12 * i;
            BtfType.VarSecInfo vsi = ds.vars().get(i);
            int offset = vsi.offset();
            if (!(btf.type(vsi.type()) instanceof BtfType.Var v)) {
                throw new BtfFormatException(".BTF: DATASEC '" + ds.name() + "' member #" + i + " is not a VAR");
            }
            if (fixOffsets && v.linkage() != 2) {
                Long off = symbolOffsets.get(v.name());
                if (off == null) {
                    throw new BtfFormatException(".BTF: variable '" + v.name() + "' of DATASEC '" + ds.name()
                            + "' has no ELF symbol");
                }
                offset = (int) (long) off;
            }
            entries.add(new Entry(vsi.type(), offset, b.getInt(p + 8)));
        }
        entries.sort(Comparator.comparingInt(Entry::offset));
        for (int i = 0; i < entries.size(); i++) {
            int p = at + 12 + 12 * i;
            b.putInt(p, entries.get(i).type());
            b.putInt(p + 4, entries.get(i).offset());
            b.putInt(p + 8, entries.get(i).size());
        }
    }

    private static void toInt(ByteBuffer b, int at) {
        // An INT of one byte: 4 would be too big when the original variable took less.
        b.putInt(at + 4, info(INT, 0, false));
        b.putInt(at + 8, 1);
        b.putInt(at + 12, 8);
    }

    private static void dotsToUnderscores(Btf btf, byte[] raw, int nameOff) {
        for (int p = btf.stringStart() + nameOff; p < btf.stringStart() + btf.stringLength() && raw[p] != 0; p++) {
            if (raw[p] == '.' || raw[p] == '?') {
                raw[p] = '_';
            }
        }
    }

    private static byte[] appendPlaceholderInt(Btf btf, byte[] raw) {
        // A nameless one-byte INT at the end of the type section; the strings move up by 16 bytes.
        int typeEnd = btf.typeStart() + btf.typeLength();
        byte[] out = new byte[raw.length + 16];
        System.arraycopy(raw, 0, out, 0, typeEnd);
        ByteBuffer t = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        t.putInt(typeEnd, 0);
        t.putInt(typeEnd + 4, info(INT, 0, false));
        t.putInt(typeEnd + 8, 1);
        t.putInt(typeEnd + 12, 8);
        System.arraycopy(raw, typeEnd, out, typeEnd + 16, raw.length - typeEnd);
        t.putInt(12, btf.typeLength() + 16);
        int strOff = t.getInt(16);
        if (btf.stringStart() >= typeEnd) {
            t.putInt(16, strOff + 16);
        }
        return out;
    }

    private static int info(int kind, int vlen, boolean kflag) {
        return (kflag ? 1 << 31 : 0) | (kind << 24) | (vlen & 0xffff);
    }
}
