package io.jvisor.bpf.btf;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the bytes of a map key or value by its BTF type, as plain Java values a JSON or
 * YAML writer can print: a struct is a {@code Map} of its members in order, an array a
 * {@code List}, an integer a {@code Long} (a {@code BigInteger} for unsigned 64-bit values above
 * {@code Long.MAX_VALUE}), a bool a {@code Boolean}, an enum its constant's name.
 *
 * <p>A few types get a readable spelling, and {@link #encode} accepts the same spelling back:
 * <ul>
 *   <li>{@code __be32}: an IPv4 address, {@code "10.0.0.1"} (networking code keeps addresses in it);</li>
 *   <li>{@code __be16}, {@code __be64}: the number, read in network byte order;</li>
 *   <li>an array of 1-byte unsigned integers: hex bytes, colon-separated up to 16 bytes
 *       ({@code "02:00:0a:00:00:01"}, a MAC address), plain hex above that;</li>
 *   <li>an array of {@code char}: the string up to its first NUL, when the bytes are text and
 *       nothing follows the NUL; otherwise the list of byte values.</li>
 * </ul>
 *
 * <p>Anonymous struct and union members are merged into their parent. A union is shown through each
 * of its members; to write one, give one member, or several that agree on the bytes they share (so
 * what {@code decode} shows writes back unchanged). Members left out of a struct are written as zero. Pointers are numbers. The host byte order is used for everything not named
 * {@code __be*}.
 */
public final class BtfValues {
    private static final HexFormat HEX = HexFormat.of();
    private static final int MAX_DEPTH = 32;
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private BtfValues() {}

    /** A value does not match its BTF type; the message names the member path and what is wrong. */
    public static final class BtfValueException extends IllegalArgumentException {
        private final String path;

        BtfValueException(String path, String reason) {
            super((path.isEmpty() ? "" : path + ": ") + reason);
            this.path = path;
        }

        /** The member path of the offending value, such as {@code mac} or {@code rules[3].port}; empty for the top. */
        public String path() {
            return path;
        }
    }

    /**
     * Decodes {@code bytes}, which hold one value of type {@code typeId}.
     *
     * @throws BtfValueException when the type has no size, or {@code bytes} is shorter than the type
     */
    public static Object decode(Btf btf, int typeId, byte[] bytes) {
        long size = btf.sizeOf(typeId);
        if (size < 0) {
            throw new BtfValueException("", btf.describe(typeId) + " has no size");
        }
        if (bytes.length < size) {
            throw new BtfValueException("", bytes.length + " bytes, " + btf.describe(typeId) + " needs " + size);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        return read(btf, typeId, b, 0, 0);
    }

    /**
     * Encodes {@code value}, spelled as {@link #decode} spells it, into the bytes of type {@code typeId}.
     *
     * @throws BtfValueException naming the member path when a value does not fit its member: an
     *     unknown member, a wrong kind of value, a number out of range, a malformed address
     */
    public static byte[] encode(Btf btf, int typeId, Object value) {
        long size = btf.sizeOf(typeId);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new BtfValueException("", btf.describe(typeId) + " has no size");
        }
        byte[] out = new byte[(int) size];
        write(btf, typeId, ByteBuffer.wrap(out).order(ByteOrder.nativeOrder()), 0, value, "", 0);
        return out;
    }

    // ---- decoding

    private static Object read(Btf btf, int id, ByteBuffer b, int off, int depth) {
        if (depth > MAX_DEPTH) {
            return "...";
        }
        BtfType t = btf.type(id);
        return switch (t) {
            case BtfType.Typedef td -> {
                if (isBe(td.name())) {
                    yield readBe(td.name(), b, off);
                }
                yield read(btf, td.type(), b, off, depth + 1);
            }
            case BtfType.Qualifier q -> read(btf, q.type(), b, off, depth + 1);
            case BtfType.Var v -> read(btf, v.type(), b, off, depth + 1);
            case BtfType.Int i -> readInt(i, b, off, i.bitOffset(), i.bits());
            case BtfType.Enum e -> {
                long v = readUnsigned(b, off, e.size());
                if (e.signed()) {
                    v = signExtend(v, e.size() * 8);
                }
                for (BtfType.EnumValue ev : e.values()) {
                    if (ev.value() == v) {
                        yield ev.name();
                    }
                }
                yield v;
            }
            case BtfType.Ptr p -> b.getLong(off);
            case BtfType.Float f -> f.size() == 4 ? (Object) (double) b.getFloat(off) : (Object) b.getDouble(off);
            case BtfType.Array a -> readArray(btf, a, b, off, depth);
            case BtfType.Struct s -> {
                Map<String, Object> m = new LinkedHashMap<>();
                readMembers(btf, s.members(), b, off, depth, m);
                yield m;
            }
            case BtfType.Union u -> {
                Map<String, Object> m = new LinkedHashMap<>();
                readMembers(btf, u.members(), b, off, depth, m);
                yield m;
            }
            case BtfType.DataSec ds -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (BtfType.VarSecInfo vs : ds.vars()) {
                    m.put(btf.type(vs.type()).name(), read(btf, vs.type(), b, off + vs.offset(), depth + 1));
                }
                yield m;
            }
            default -> throw new BtfValueException("", btf.describe(id) + " cannot be shown");
        };
    }

    private static void readMembers(Btf btf, List<BtfType.Member> members, ByteBuffer b, int off, int depth,
                                    Map<String, Object> into) {
        for (BtfType.Member mb : members) {
            int at = off + mb.bitOffset() / 8;
            if (mb.bitfieldSize() != 0) {
                BtfType under = btf.type(btf.skipQualifiers(mb.type()));
                int unitOff = off + (mb.bitOffset() / 8 / 8) * 8; // the 8-byte unit holding the bits
                int bitInUnit = mb.bitOffset() - (unitOff - off) * 8;
                long unit = readUnsigned(b, unitOff, Math.min(8, b.capacity() - unitOff));
                long v = (unit >>> bitInUnit) & mask(mb.bitfieldSize());
                boolean signed = under instanceof BtfType.Int i && (i.encoding() & BtfType.Int.SIGNED) != 0;
                into.put(mb.name(), signed ? signExtend(v, mb.bitfieldSize()) : v);
                continue;
            }
            Object v = read(btf, mb.type(), b, at, depth + 1);
            if (mb.name().isEmpty() && v instanceof Map<?, ?> inner) {
                for (var e : inner.entrySet()) {
                    into.put((String) e.getKey(), e.getValue());
                }
            } else {
                into.put(mb.name(), v);
            }
        }
    }

    private static Object readArray(Btf btf, BtfType.Array a, ByteBuffer b, int off, int depth) {
        int n = a.nelems();
        int elem = btf.skipQualifiers(a.type());
        BtfType et = btf.type(elem);
        if (et instanceof BtfType.Int i && i.size() == 1 && isChar(i)) {
            String text = text(b, off, n);
            if (text != null) {
                return text;
            }
            // not text: the bytes, as a list of numbers (which encode takes back)
        }
        if (et instanceof BtfType.Int i && i.size() == 1 && (i.encoding() & BtfType.Int.SIGNED) == 0
                && (i.encoding() & 4) == 0) {
            byte[] raw = new byte[n];
            b.get(off, raw);
            return n <= 16 ? HexFormat.ofDelimiter(":").formatHex(raw) : HEX.formatHex(raw);
        }
        long es = btf.sizeOf(a.type());
        List<Object> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            out.add(read(btf, a.type(), b, (int) (off + k * es), depth + 1));
        }
        return out;
    }

    private static Object readInt(BtfType.Int i, ByteBuffer b, int off, int bitOffset, int bits) {
        if ((i.encoding() & 4) != 0) {
            return b.get(off) != 0;
        }
        if (i.size() > 8) {
            byte[] raw = new byte[i.size()];
            b.get(off, raw);
            return "0x" + HEX.formatHex(reverseIfLittle(raw));
        }
        long v = readUnsigned(b, off, i.size());
        if (bitOffset != 0 || bits != i.size() * 8) {
            v = (v >>> bitOffset) & mask(bits);
        }
        if ((i.encoding() & BtfType.Int.SIGNED) != 0) {
            return signExtend(v, bits);
        }
        if (v < 0) {
            return new BigInteger(Long.toUnsignedString(v));
        }
        return v;
    }

    private static Object readBe(String name, ByteBuffer b, int off) {
        return switch (name) {
            case "__be16" -> (long) (((b.get(off) & 0xff) << 8) | (b.get(off + 1) & 0xff));
            case "__be32" -> (b.get(off) & 0xff) + "." + (b.get(off + 1) & 0xff) + "." + (b.get(off + 2) & 0xff)
                    + "." + (b.get(off + 3) & 0xff);
            default -> {
                long v = 0;
                for (int k = 0; k < 8; k++) {
                    v = (v << 8) | (b.get(off + k) & 0xff);
                }
                yield v < 0 ? (Object) new BigInteger(Long.toUnsignedString(v)) : (Object) v;
            }
        };
    }

    // ---- encoding

    private static void write(Btf btf, int id, ByteBuffer b, int off, Object value, String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw new BtfValueException(path, "the type nests too deeply");
        }
        BtfType t = btf.type(id);
        switch (t) {
            case BtfType.Typedef td -> {
                if (isBe(td.name())) {
                    writeBe(td.name(), b, off, value, path);
                } else {
                    write(btf, td.type(), b, off, value, path, depth + 1);
                }
            }
            case BtfType.Qualifier q -> write(btf, q.type(), b, off, value, path, depth + 1);
            case BtfType.Var v -> write(btf, v.type(), b, off, value, path, depth + 1);
            case BtfType.Int i -> writeInt(i, b, off, value, path);
            case BtfType.Enum e -> {
                long v;
                if (value instanceof String s && !looksNumeric(s)) {
                    v = e.values().stream().filter(ev -> ev.name().equals(s)).mapToLong(BtfType.EnumValue::value)
                            .findFirst().orElseThrow(() -> new BtfValueException(path, "'" + s + "' is not a constant of "
                                    + btf.describe(id) + " (" + e.values().stream().map(BtfType.EnumValue::name)
                                    .toList() + ")"));
                } else {
                    v = number(value, path, e.size() * 8, e.signed());
                }
                writeUnsigned(b, off, e.size(), v);
            }
            case BtfType.Ptr p -> b.putLong(off, number(value, path, 64, false));
            case BtfType.Float f -> {
                if (!(value instanceof Number n)) {
                    throw new BtfValueException(path, "expected a number, got " + describeValue(value));
                }
                if (f.size() == 4) {
                    b.putFloat(off, n.floatValue());
                } else {
                    b.putDouble(off, n.doubleValue());
                }
            }
            case BtfType.Array a -> writeArray(btf, a, b, off, value, path, depth);
            case BtfType.Struct s -> writeMembers(btf, "struct " + s.name(), s.members(), b, off, value, path, depth);
            case BtfType.Union u -> writeUnion(btf, u, b, off, value, path, depth);
            default -> throw new BtfValueException(path, btf.describe(id) + " cannot be written");
        }
    }

    private static void writeMembers(Btf btf, String what, List<BtfType.Member> members, ByteBuffer b, int off,
                                     Object value, String path, int depth) {
        if (!(value instanceof Map<?, ?> given)) {
            throw new BtfValueException(path, "expected an object with the members of " + what.trim() + ", got "
                    + describeValue(value));
        }
        Map<String, Object> rest = new LinkedHashMap<>();
        for (var e : given.entrySet()) {
            rest.put(String.valueOf(e.getKey()), e.getValue());
        }
        writeMembersFrom(btf, members, b, off, rest, path, depth);
        if (!rest.isEmpty()) {
            throw new BtfValueException(join(path, rest.keySet().iterator().next()), "no such member of "
                    + what.trim() + " (members: " + String.join(", ", memberNames(btf, members, depth)) + ")");
        }
    }

    /**
     * Writes a union from one or more of its members. Several members are accepted when they agree
     * on the bytes they share (as {@link #decode} shows them), so a decoded value writes back as it
     * was; members that disagree are refused rather than letting one silently win.
     */
    private static void writeUnion(Btf btf, BtfType.Union u, ByteBuffer b, int off, Object value, String path,
                                   int depth) {
        String what = "union " + (u.name().isEmpty() ? "{...}" : u.name());
        if (!(value instanceof Map<?, ?> given)) {
            throw new BtfValueException(path, "expected an object with a member of " + what + ", got "
                    + describeValue(value));
        }
        byte[] merged = null;
        long mergedLen = 0;
        String mergedFrom = null;
        for (var e : given.entrySet()) {
            String name = String.valueOf(e.getKey());
            BtfType.Member mb = u.members().stream().filter(m -> m.name().equals(name)).findFirst()
                    .orElseThrow(() -> new BtfValueException(join(path, name), "no such member of " + what
                            + " (members: " + String.join(", ", memberNames(btf, u.members(), depth)) + ")"));
            ByteBuffer one = ByteBuffer.allocate(u.size()).order(b.order());
            Map<String, Object> single = new LinkedHashMap<>();
            single.put(name, e.getValue());
            writeMembersFrom(btf, List.of(mb), one, 0, single, path, depth);
            long len = mb.bitfieldSize() != 0 ? (mb.bitOffset() + mb.bitfieldSize() + 7) / 8 : btf.sizeOf(mb.type());
            if (merged != null) {
                int common = (int) Math.min(len, mergedLen);
                if (!java.util.Arrays.equals(merged, 0, common, one.array(), 0, common)) {
                    throw new BtfValueException(path, "members " + mergedFrom + " and " + name + " of " + what
                            + " disagree on the bytes they share; give one");
                }
            }
            if (merged == null || len > mergedLen) {
                merged = one.array();
                mergedLen = len;
                mergedFrom = name;
            }
        }
        if (merged == null) {
            throw new BtfValueException(path, "give a member of " + what + " (members: "
                    + String.join(", ", memberNames(btf, u.members(), depth)) + ")");
        }
        b.put(off, merged, 0, u.size());
    }

    /** Writes the members present in {@code rest}, removing them from it. */
    private static void writeMembersFrom(Btf btf, List<BtfType.Member> members, ByteBuffer b, int off,
                                         Map<String, Object> rest, String path, int depth) {
        for (BtfType.Member mb : members) {
            int at = off + mb.bitOffset() / 8;
            if (mb.name().isEmpty()) {
                BtfType inner = btf.type(btf.skipQualifiers(mb.type()));
                if (inner instanceof BtfType.Struct s) {
                    writeMembersFrom(btf, s.members(), b, at, rest, path, depth + 1);
                } else if (inner instanceof BtfType.Union u) {
                    // the members of an anonymous union that were given, written as one union
                    Map<String, Object> mine = new LinkedHashMap<>();
                    for (String n : memberNames(btf, u.members(), depth + 1)) {
                        if (rest.containsKey(n)) {
                            mine.put(n, rest.remove(n));
                        }
                    }
                    if (!mine.isEmpty()) {
                        writeUnionFlat(btf, u, b, at, mine, path, depth + 1);
                    }
                }
                continue;
            }
            if (!rest.containsKey(mb.name())) {
                continue;
            }
            Object v = rest.remove(mb.name());
            String p = join(path, mb.name());
            if (mb.bitfieldSize() != 0) {
                BtfType under = btf.type(btf.skipQualifiers(mb.type()));
                boolean signed = under instanceof BtfType.Int i && (i.encoding() & BtfType.Int.SIGNED) != 0;
                long x = number(v, p, mb.bitfieldSize(), signed) & mask(mb.bitfieldSize());
                int unitOff = off + (mb.bitOffset() / 8 / 8) * 8;
                int width = Math.min(8, b.capacity() - unitOff);
                int bitInUnit = mb.bitOffset() - (unitOff - off) * 8;
                long unit = readUnsigned(b, unitOff, width);
                unit = (unit & ~(mask(mb.bitfieldSize()) << bitInUnit)) | (x << bitInUnit);
                writeUnsigned(b, unitOff, width, unit);
            } else {
                write(btf, mb.type(), b, at, v, p, depth + 1);
            }
        }
    }

    /** An anonymous union's given members (its nested anonymous members flattened) written as one union. */
    private static void writeUnionFlat(Btf btf, BtfType.Union u, ByteBuffer b, int off, Map<String, Object> given,
                                       String path, int depth) {
        boolean direct = given.keySet().stream().allMatch(n -> u.members().stream().anyMatch(m -> m.name().equals(n)));
        if (direct) {
            writeUnion(btf, u, b, off, given, path, depth);
        } else {
            writeMembersFrom(btf, u.members(), b, off, new LinkedHashMap<>(given), path, depth); // nested anonymous members
        }
    }

    private static List<String> memberNames(Btf btf, List<BtfType.Member> members, int depth) {
        List<String> out = new ArrayList<>();
        for (BtfType.Member mb : members) {
            if (mb.name().isEmpty() && depth < MAX_DEPTH) {
                BtfType inner = btf.type(btf.skipQualifiers(mb.type()));
                if (inner instanceof BtfType.Struct s) {
                    out.addAll(memberNames(btf, s.members(), depth + 1));
                } else if (inner instanceof BtfType.Union u) {
                    out.addAll(memberNames(btf, u.members(), depth + 1));
                }
            } else {
                out.add(mb.name());
            }
        }
        return out;
    }

    private static void writeArray(Btf btf, BtfType.Array a, ByteBuffer b, int off, Object value, String path,
                                   int depth) {
        int n = a.nelems();
        BtfType et = btf.type(btf.skipQualifiers(a.type()));
        if (et instanceof BtfType.Int i && i.size() == 1 && isChar(i) && !(value instanceof List<?>)) {
            if (!(value instanceof String s)) {
                throw new BtfValueException(path, "expected a string (or a list of byte values), got "
                        + describeValue(value));
            }
            byte[] raw = s.getBytes(StandardCharsets.UTF_8);
            if (raw.length > n) {
                throw new BtfValueException(path, "'" + s + "' is " + raw.length + " bytes; the field holds " + n);
            }
            b.put(off, raw);
            return;
        }
        if (et instanceof BtfType.Int i && i.size() == 1 && (i.encoding() & BtfType.Int.SIGNED) == 0
                && (i.encoding() & 4) == 0 && value instanceof String s) {
            String h = s.replace(":", "").replace("-", "");
            if (h.startsWith("0x")) {
                h = h.substring(2);
            }
            byte[] raw;
            try {
                raw = HEX.parseHex(h);
            } catch (IllegalArgumentException e) {
                throw new BtfValueException(path, "'" + s + "' is not hex bytes");
            }
            if (raw.length != n) {
                throw new BtfValueException(path, "'" + s + "' is " + raw.length + " bytes; the field holds " + n);
            }
            b.put(off, raw);
            return;
        }
        if (!(value instanceof List<?> list)) {
            throw new BtfValueException(path, "expected a list of " + n + " elements, got " + describeValue(value));
        }
        if (list.size() > n) {
            throw new BtfValueException(path, list.size() + " elements; the array holds " + n);
        }
        long es = btf.sizeOf(a.type());
        for (int k = 0; k < list.size(); k++) {
            write(btf, a.type(), b, (int) (off + k * es), list.get(k), path + "[" + k + "]", depth + 1);
        }
    }

    private static void writeInt(BtfType.Int i, ByteBuffer b, int off, Object value, String path) {
        if ((i.encoding() & 4) != 0) {
            if (!(value instanceof Boolean bool)) {
                throw new BtfValueException(path, "expected true or false, got " + describeValue(value));
            }
            b.put(off, (byte) (bool ? 1 : 0));
            return;
        }
        if (i.size() > 8) {
            throw new BtfValueException(path, "integers of " + i.size() + " bytes cannot be written");
        }
        boolean signed = (i.encoding() & BtfType.Int.SIGNED) != 0;
        long v = number(value, path, i.bits(), signed);
        if (i.bitOffset() != 0 || i.bits() != i.size() * 8) {
            long unit = readUnsigned(b, off, i.size());
            unit = (unit & ~(mask(i.bits()) << i.bitOffset())) | ((v & mask(i.bits())) << i.bitOffset());
            writeUnsigned(b, off, i.size(), unit);
        } else {
            writeUnsigned(b, off, i.size(), v);
        }
    }

    private static void writeBe(String name, ByteBuffer b, int off, Object value, String path) {
        switch (name) {
            case "__be32" -> {
                if (value instanceof String s && s.indexOf('.') >= 0) {
                    String[] parts = s.split("\\.", -1);
                    if (parts.length != 4) {
                        throw new BtfValueException(path, "'" + s + "' is not an IPv4 address");
                    }
                    for (int k = 0; k < 4; k++) {
                        int x;
                        try {
                            x = Integer.parseInt(parts[k]);
                        } catch (NumberFormatException e) {
                            x = -1;
                        }
                        if (x < 0 || x > 255 || parts[k].isEmpty() || parts[k].length() > 3) {
                            throw new BtfValueException(path, "'" + s + "' is not an IPv4 address");
                        }
                        b.put(off + k, (byte) x);
                    }
                } else {
                    writeBigEndian(b, off, 4, number(value, path, 32, false));
                }
            }
            case "__be16" -> writeBigEndian(b, off, 2, number(value, path, 16, false));
            default -> writeBigEndian(b, off, 8, number(value, path, 64, false));
        }
    }

    // ---- helpers

    /**
     * A char array as a string: the bytes up to the first NUL when they are UTF-8 text without
     * control characters and every byte after it is zero; null otherwise (the string would lose bytes).
     */
    private static String text(ByteBuffer b, int off, int n) {
        int len = 0;
        while (len < n && b.get(off + len) != 0) {
            len++;
        }
        for (int k = len; k < n; k++) {
            if (b.get(off + k) != 0) {
                return null;
            }
        }
        byte[] raw = new byte[len];
        b.get(off, raw);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
            return s.chars().anyMatch(Character::isISOControl) ? null : s;
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private static boolean isBe(String name) {
        return name.equals("__be16") || name.equals("__be32") || name.equals("__be64");
    }

    private static boolean isChar(BtfType.Int i) {
        return (i.encoding() & 2) != 0 || i.name().equals("char");
    }

    private static boolean looksNumeric(String s) {
        return !s.isEmpty() && (Character.isDigit(s.charAt(0)) || s.charAt(0) == '-');
    }

    /** Reads {@code value} as an integer of {@code bits} bits, checking the range. */
    private static long number(Object value, String path, int bits, boolean signed) {
        BigInteger v;
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            v = BigInteger.valueOf(((Number) value).longValue());
        } else if (value instanceof BigInteger bi) {
            v = bi;
        } else if (value instanceof String s) {
            try {
                String t = s.trim();
                v = t.startsWith("0x") || t.startsWith("0X") ? new BigInteger(t.substring(2), 16) : new BigInteger(t);
            } catch (NumberFormatException e) {
                throw new BtfValueException(path, "'" + s + "' is not an integer");
            }
        } else {
            throw new BtfValueException(path, "expected an integer, got " + describeValue(value));
        }
        BigInteger min = signed ? BigInteger.ONE.shiftLeft(bits - 1).negate() : BigInteger.ZERO;
        BigInteger max = signed ? BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE)
                : BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
        if (v.compareTo(min) < 0 || v.compareTo(max) > 0) {
            throw new BtfValueException(path, v + " is out of range " + min + ".." + max);
        }
        return v.signum() < 0 ? v.longValue() : v.mod(TWO_64).longValue();
    }

    private static String describeValue(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map<?, ?>) {
            return "an object";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        return String.valueOf(v);
    }

    private static String join(String path, String member) {
        return path.isEmpty() ? member : path + "." + member;
    }

    private static long mask(int bits) {
        return bits >= 64 ? -1L : (1L << bits) - 1;
    }

    private static long signExtend(long v, int bits) {
        return bits >= 64 ? v : (v << (64 - bits)) >> (64 - bits);
    }

    private static long readUnsigned(ByteBuffer b, int off, int size) {
        long v = 0;
        for (int k = 0; k < size; k++) {
            int idx = b.order() == ByteOrder.LITTLE_ENDIAN ? off + k : off + size - 1 - k;
            v |= (long) (b.get(idx) & 0xff) << (8 * k);
        }
        return v;
    }

    private static void writeUnsigned(ByteBuffer b, int off, int size, long v) {
        for (int k = 0; k < size; k++) {
            int idx = b.order() == ByteOrder.LITTLE_ENDIAN ? off + k : off + size - 1 - k;
            b.put(idx, (byte) (v >>> (8 * k)));
        }
    }

    private static void writeBigEndian(ByteBuffer b, int off, int size, long v) {
        for (int k = 0; k < size; k++) {
            b.put(off + size - 1 - k, (byte) (v >>> (8 * k)));
        }
    }

    private static byte[] reverseIfLittle(byte[] raw) {
        if (ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN) {
            return raw;
        }
        byte[] r = new byte[raw.length];
        for (int k = 0; k < raw.length; k++) {
            r[k] = raw[raw.length - 1 - k];
        }
        return r;
    }
}
