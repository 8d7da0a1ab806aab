package io.jvisor.engine;

import io.jvisor.bpf.btf.Btf;
import io.jvisor.bpf.btf.BtfKind;
import io.jvisor.bpf.btf.BtfType;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectMap;

import java.util.List;
import java.util.Optional;

/**
 * Whether a map kept across a live swap (same name in the old and the new code) still means the same
 * bytes: its key and value layouts, compared through the two objects' BTF. A pure function of two
 * compiled objects; no kernel.
 *
 * <p><b>Same layout</b> means, after following typedefs and qualifiers ({@code const},
 * {@code volatile}, type tags) on both sides:
 * <ul>
 *   <li>integers: the same size, bit width and signedness ({@code __u32} and {@code unsigned int}
 *       are the same; {@code __u32} and {@code __s32} are not);</li>
 *   <li>enums: the same size and signedness (enumerator names and values are not compared: a value
 *       stored by the old code stays the same number);</li>
 *   <li>floats: the same size; pointers: always the same (the pointee is not in the map's bytes);</li>
 *   <li>arrays: the same element count and the same element layout;</li>
 *   <li>structs and unions: the same size and, member by member in order, the same name, bit
 *       offset, bit-field width and layout, recursively; a global data section likewise, variable
 *       by variable;</li>
 *   <li>an integer and an enum, a struct and a union, and so on, are different kinds and differ.</li>
 * </ul>
 * Type names (of typedefs, structs, unions and enums) are ignored: renaming {@code struct fib_v1} to
 * {@code struct fib_v2}, or {@code u32} to {@code __u32}, changes no byte. Member names are
 * compared, since a renamed member usually carries another meaning. A map whose key or value has no
 * BTF type on either side (declared with {@code key_size}/{@code value_size}) is compared by size
 * only; one that has a type on one side only cannot be compared, which counts as a difference.
 */
public final class MapLayoutCheck {
    /** Typedef and array chains in real BTF are short; deeper means malformed input. */
    private static final int MAX_DEPTH = 64;

    private MapLayoutCheck() {}

    /**
     * The difference between the layouts of map {@code map} in two compiled objects.
     *
     * @return empty when the key and value layouts are the same, else a sentence naming the map and
     *     the first member that differs, e.g. {@code map 'jv_fib': value member 'ifindex' (__u32) at
     *     offset 4 became 'port' (__u32)}
     * @throws IllegalArgumentException when either object has no map of that name
     */
    public static Optional<String> difference(String map, CollectionSpec before, CollectionSpec after) {
        ObjectMap a = before.map(map).orElseThrow(() -> new IllegalArgumentException("the old code has no map '" + map + "'"));
        ObjectMap b = after.map(map).orElseThrow(() -> new IllegalArgumentException("the new code has no map '" + map + "'"));
        return difference(before.btf(), a, after.btf(), b);
    }

    /** {@link #difference(String, CollectionSpec, CollectionSpec)} for two maps and their objects' BTF. */
    public static Optional<String> difference(Btf beforeBtf, ObjectMap before, Btf afterBtf, ObjectMap after) {
        String diff = part("key", beforeBtf, before.btfKeyTypeId(), before.spec().keySize(), afterBtf,
                after.btfKeyTypeId(), after.spec().keySize());
        if (diff == null) {
            diff = part("value", beforeBtf, before.btfValueTypeId(), before.spec().valueSize(), afterBtf,
                    after.btfValueTypeId(), after.spec().valueSize());
        }
        return diff == null ? Optional.empty() : Optional.of("map '" + after.name() + "': " + diff);
    }

    private static String part(String what, Btf ab, int aId, int aSize, Btf bb, int bId, int bSize) {
        boolean aTyped = ab != null && aId != 0, bTyped = bb != null && bId != 0;
        if (aTyped && bTyped) {
            String d = new Walk(ab, bb).compare(what, "", 0, aId, bId, 0);
            if (d != null) {
                return d;
            }
        } else if (aTyped != bTyped) {
            return what + ": " + (aTyped ? "the old" : "the new") + " code gives its type in BTF and the "
                    + (aTyped ? "new" : "old") + " one does not, so the layouts cannot be compared";
        }
        return aSize == bSize ? null : what + " is " + bSize + " bytes, was " + aSize;
    }

    /** One comparison: the two objects' BTF. */
    private record Walk(Btf a, Btf b) {
        /**
         * The first difference between type aId (old) and bId (new) at {@code bitOffset} of the key or
         * value, or null.
         *
         * @param what {@code key} or {@code value}
         * @param path the member path so far ({@code nh.ifindex}), empty at the top
         */
        String compare(String what, String path, long bitOffset, int aId, int bId, int depth) {
            if (depth > MAX_DEPTH) {
                return where(what, path) + " nests too deep to compare";
            }
            BtfType x = a.type(a.skipQualifiers(aId));
            BtfType y = b.type(b.skipQualifiers(bId));
            String changed = where(what, path) + (path.isEmpty() ? "" : " at offset " + bitOffset / 8) + " was "
                    + a.describe(aId) + ", became " + b.describe(bId);
            return switch (x) {
                case BtfType.Int i when y instanceof BtfType.Int j ->
                        i.size() == j.size() && i.bits() == j.bits() && i.bitOffset() == j.bitOffset()
                                && (i.encoding() & ~CHAR) == (j.encoding() & ~CHAR) ? null : changed;
                case BtfType.Enum i when y instanceof BtfType.Enum j ->
                        i.size() == j.size() && i.signed() == j.signed() ? null : changed;
                case BtfType.Float i when y instanceof BtfType.Float j -> i.size() == j.size() ? null : changed;
                case BtfType.Ptr i when y instanceof BtfType.Ptr -> null;
                case BtfType.Array i when y instanceof BtfType.Array j -> i.nelems() != j.nelems() ? changed
                        : compare(what, path + "[0]", bitOffset, i.type(), j.type(), depth + 1);
                case BtfType.Struct i when y instanceof BtfType.Struct j ->
                        members(what, path, bitOffset, i.members(), i.size(), j.members(), j.size(), "member", depth);
                case BtfType.Union i when y instanceof BtfType.Union j ->
                        members(what, path, bitOffset, i.members(), i.size(), j.members(), j.size(), "member", depth);
                case BtfType.DataSec i when y instanceof BtfType.DataSec j ->
                        members(what, path, bitOffset, variables(a, i), i.size(), variables(b, j), j.size(), "variable",
                                depth);
                default -> x.kind() == y.kind() && x.kind() != BtfKind.FWD ? null : changed;
            };
        }

        private String members(String what, String path, long base, List<BtfType.Member> xs, long xSize,
                               List<BtfType.Member> ys, long ySize, String noun, int depth) {
            String prefix = what + " " + noun + " ";
            int common = Math.min(xs.size(), ys.size());
            for (int k = 0; k < common; k++) {
                BtfType.Member m = xs.get(k), n = ys.get(k);
                long mOff = base + Integer.toUnsignedLong(m.bitOffset()), nOff = base + Integer.toUnsignedLong(n.bitOffset());
                if (!m.name().equals(n.name()) || mOff != nOff || m.bitfieldSize() != n.bitfieldSize()) {
                    return prefix + show(a, path, m) + " at offset " + offset(mOff) + " became " + show(b, path, n)
                            + (mOff == nOff ? "" : " at offset " + offset(nOff));
                }
                String d = compare(what, label(path, m.name()), mOff, m.type(), n.type(), depth + 1);
                if (d != null) {
                    return d;
                }
            }
            if (xs.size() < ys.size()) {
                BtfType.Member n = ys.get(common);
                return prefix + show(b, path, n) + " at offset " + offset(base + Integer.toUnsignedLong(n.bitOffset()))
                        + " is new";
            }
            if (xs.size() > ys.size()) {
                BtfType.Member m = xs.get(common);
                return prefix + show(a, path, m) + " at offset " + offset(base + Integer.toUnsignedLong(m.bitOffset()))
                        + " is gone";
            }
            if (xSize != ySize) {
                return where(what, path) + " is " + ySize + " bytes, was " + xSize;
            }
            return null;
        }
    }

    /** BTF int encoding bit: char. Ignored: {@code char} and {@code __u8} hold the same byte. */
    private static final int CHAR = 2;

    /** A data section's variables as members: name, bit offset, type. */
    private static List<BtfType.Member> variables(Btf btf, BtfType.DataSec ds) {
        return ds.vars().stream().map(v -> {
            String name = btf.type(v.type()) instanceof BtfType.Var var ? var.name() : "";
            int type = btf.type(v.type()) instanceof BtfType.Var var ? var.type() : v.type();
            return new BtfType.Member(name, type, v.offset() * 8, 0);
        }).toList();
    }

    /** A member as a message names it: {@code 'nh.ifindex' (__u32)}. */
    private static String show(Btf btf, String path, BtfType.Member m) {
        String type = btf.describe(m.type()) + (m.bitfieldSize() == 0 ? "" : ":" + m.bitfieldSize());
        return (m.name().isEmpty() ? "(anonymous)" : "'" + label(path, m.name()) + "'") + " (" + type + ")";
    }

    /** {@code value}, or {@code value member 'nh.ifindex'}. */
    private static String where(String what, String path) {
        return path.isEmpty() ? what : what + " member '" + path + "'";
    }

    /** The path to a member: {@code parent.name}; an anonymous member (a nameless union) adds nothing, as in C. */
    private static String label(String parent, String name) {
        return parent.isEmpty() ? name : name.isEmpty() ? parent : parent + "." + name;
    }

    private static String offset(long bits) {
        return bits % 8 == 0 ? Long.toString(bits / 8) : (bits / 8) + " (bit " + bits % 8 + ")";
    }
}
