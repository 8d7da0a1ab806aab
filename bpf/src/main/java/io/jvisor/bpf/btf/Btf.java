package io.jvisor.bpf.btf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Parsed BTF (the {@code .BTF} section of an object, or {@code /sys/kernel/btf/vmlinux}): the type
 * table and its strings. Immutable; no kernel involved. {@link #raw()} gives the bytes back for
 * BPF_BTF_LOAD, after {@link BtfSanitizer} has fixed what clang leaves for the loader to fill in.
 *
 * <p>Only little-endian BTF is accepted (the {@code bpf} / {@code bpfel} target).
 */
public final class Btf {
    /** BTF and BTF.ext magic, little-endian. */
    public static final int MAGIC = 0xeB9F;
    static final int HEADER_SIZE = 24;
    /** Resolution of chains of typedefs, qualifiers and arrays stops here (cycles in bad input). */
    private static final int MAX_DEPTH = 64;

    private final byte[] raw;
    private final int typeStart;
    private final int typeLen;
    private final int strStart;
    private final int strLen;
    private final List<BtfType> types;
    private final int[] offsets;
    private final Map<String, List<Integer>> byName;

    private Btf(byte[] raw, int typeStart, int typeLen, int strStart, int strLen, List<BtfType> types, int[] offsets) {
        this.raw = raw;
        this.typeStart = typeStart;
        this.typeLen = typeLen;
        this.strStart = strStart;
        this.strLen = strLen;
        this.types = types;
        this.offsets = offsets;
        Map<String, List<Integer>> names = new HashMap<>();
        for (int id = 1; id < types.size(); id++) {
            String n = types.get(id).name();
            if (!n.isEmpty()) {
                names.computeIfAbsent(n, k -> new ArrayList<>(1)).add(id);
            }
        }
        this.byName = names;
    }

    /**
     * Parses raw BTF.
     *
     * @throws BtfFormatException naming what is malformed
     */
    public static Btf parse(byte[] bytes) throws BtfFormatException {
        byte[] raw = bytes.clone();
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        if (raw.length < HEADER_SIZE) {
            throw new BtfFormatException(".BTF: " + raw.length + " bytes is shorter than the 24-byte header");
        }
        int magic = Short.toUnsignedInt(b.getShort(0));
        if (magic != MAGIC) {
            throw new BtfFormatException(String.format(".BTF: bad magic 0x%04x (expected 0xeb9f, little-endian)", magic));
        }
        if (raw[2] != 1) {
            throw new BtfFormatException(".BTF: unsupported version " + raw[2]);
        }
        long hdrLen = Integer.toUnsignedLong(b.getInt(4));
        long typeOff = Integer.toUnsignedLong(b.getInt(8));
        long typeLen = Integer.toUnsignedLong(b.getInt(12));
        long strOff = Integer.toUnsignedLong(b.getInt(16));
        long strLen = Integer.toUnsignedLong(b.getInt(20));
        if (hdrLen < HEADER_SIZE || hdrLen > raw.length) {
            throw new BtfFormatException(".BTF: header length " + hdrLen + " is outside 24.." + raw.length);
        }
        if (hdrLen + typeOff + typeLen > raw.length || hdrLen + strOff + strLen > raw.length) {
            throw new BtfFormatException(".BTF: type section (" + typeOff + "+" + typeLen + ") or string section ("
                    + strOff + "+" + strLen + ") runs past the " + raw.length + " bytes of BTF");
        }
        if (typeLen % 4 != 0) {
            throw new BtfFormatException(".BTF: type section length " + typeLen + " is not a multiple of 4");
        }
        if (strLen == 0 || raw[(int) (hdrLen + strOff)] != 0) {
            throw new BtfFormatException(".BTF: the string section must start with an empty string");
        }
        Strings strings = new Strings(raw, (int) (hdrLen + strOff), (int) strLen);
        int start = (int) (hdrLen + typeOff);
        int end = start + (int) typeLen;
        List<BtfType> types = new ArrayList<>();
        types.add(new BtfType.Void());
        List<Integer> offs = new ArrayList<>();
        offs.add(-1);
        int at = start;
        while (at < end) {
            int id = types.size();
            if (at + 12 > end) {
                throw new BtfFormatException(".BTF: type #" + id + " is truncated");
            }
            int nameOff = b.getInt(at);
            int info = b.getInt(at + 4);
            int sizeOrType = b.getInt(at + 8);
            int kindNo = (info >>> 24) & 0x1f;
            int vlen = info & 0xffff;
            boolean kflag = info < 0;
            BtfKind kind = BtfKind.of(kindNo);
            if (kind == null || kind == BtfKind.VOID) {
                throw new BtfFormatException(".BTF: type #" + id + " has unknown kind " + kindNo);
            }
            String name = strings.get(nameOff, id);
            int extra = switch (kind) {
                case INT, VAR, DECL_TAG -> 4;
                case ARRAY -> 12;
                case STRUCT, UNION, DATASEC, ENUM64 -> 12 * vlen;
                case ENUM, FUNC_PROTO -> 8 * vlen;
                default -> 0;
            };
            int body = at + 12;
            if ((long) body + extra > end) {
                throw new BtfFormatException(".BTF: type #" + id + " (" + kind.name().toLowerCase() + " '" + name
                        + "') runs past the type section");
            }
            BtfType t = switch (kind) {
                case INT -> {
                    int v = b.getInt(body);
                    yield new BtfType.Int(name, sizeOrType, (v >>> 24) & 0x0f, (v >>> 16) & 0xff, v & 0xff);
                }
                case PTR -> new BtfType.Ptr(sizeOrType);
                case ARRAY -> new BtfType.Array(b.getInt(body), b.getInt(body + 4), b.getInt(body + 8));
                case STRUCT, UNION -> {
                    List<BtfType.Member> ms = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int p = body + 12 * i;
                        int off = b.getInt(p + 8);
                        ms.add(new BtfType.Member(strings.get(b.getInt(p), id), b.getInt(p + 4),
                                kflag ? off & 0xffffff : off, kflag ? off >>> 24 : 0));
                    }
                    yield kind == BtfKind.STRUCT ? new BtfType.Struct(name, sizeOrType, ms)
                            : new BtfType.Union(name, sizeOrType, ms);
                }
                case ENUM -> {
                    List<BtfType.EnumValue> vs = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int p = body + 8 * i;
                        int v = b.getInt(p + 4);
                        vs.add(new BtfType.EnumValue(strings.get(b.getInt(p), id), kflag ? v : Integer.toUnsignedLong(v)));
                    }
                    yield new BtfType.Enum(name, sizeOrType, kflag, false, vs);
                }
                case ENUM64 -> {
                    List<BtfType.EnumValue> vs = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int p = body + 12 * i;
                        long v = Integer.toUnsignedLong(b.getInt(p + 4)) | ((long) b.getInt(p + 8) << 32);
                        vs.add(new BtfType.EnumValue(strings.get(b.getInt(p), id), v));
                    }
                    yield new BtfType.Enum(name, sizeOrType, kflag, true, vs);
                }
                case FWD -> new BtfType.Fwd(name, kflag);
                case TYPEDEF -> new BtfType.Typedef(name, sizeOrType);
                case VOLATILE, CONST, RESTRICT, TYPE_TAG -> new BtfType.Qualifier(kind, name, sizeOrType);
                case FUNC -> new BtfType.Func(name, sizeOrType, vlen);
                case FUNC_PROTO -> {
                    List<BtfType.Param> ps = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int p = body + 8 * i;
                        ps.add(new BtfType.Param(strings.get(b.getInt(p), id), b.getInt(p + 4)));
                    }
                    yield new BtfType.FuncProto(sizeOrType, ps);
                }
                case VAR -> new BtfType.Var(name, sizeOrType, b.getInt(body));
                case DATASEC -> {
                    List<BtfType.VarSecInfo> vs = new ArrayList<>(vlen);
                    for (int i = 0; i < vlen; i++) {
                        int p = body + 12 * i;
                        vs.add(new BtfType.VarSecInfo(b.getInt(p), b.getInt(p + 4), b.getInt(p + 8)));
                    }
                    yield new BtfType.DataSec(name, sizeOrType, vs);
                }
                case FLOAT -> new BtfType.Float(name, sizeOrType);
                case DECL_TAG -> new BtfType.DeclTag(name, sizeOrType, b.getInt(body));
                case VOID -> throw new IllegalStateException();
            };
            types.add(t);
            offs.add(at - start);
            at = body + extra;
        }
        int[] offsets = offs.stream().mapToInt(Integer::intValue).toArray();
        Btf btf = new Btf(raw, start, (int) typeLen, (int) (hdrLen + strOff), (int) strLen, List.copyOf(types), offsets);
        btf.checkReferences();
        return btf;
    }

    private void checkReferences() throws BtfFormatException {
        for (int id = 1; id < types.size(); id++) {
            BtfType t = types.get(id);
            int[] refs = switch (t) {
                case BtfType.Ptr p -> new int[] {p.type()};
                case BtfType.Array a -> new int[] {a.type(), a.indexType()};
                case BtfType.Typedef td -> new int[] {td.type()};
                case BtfType.Qualifier q -> new int[] {q.type()};
                case BtfType.Func f -> new int[] {f.type()};
                case BtfType.Var v -> new int[] {v.type()};
                case BtfType.DeclTag d -> new int[] {d.type()};
                case BtfType.FuncProto fp -> fp.params().stream().mapToInt(BtfType.Param::type).toArray();
                case BtfType.Struct s -> s.members().stream().mapToInt(BtfType.Member::type).toArray();
                case BtfType.Union u -> u.members().stream().mapToInt(BtfType.Member::type).toArray();
                case BtfType.DataSec d -> d.vars().stream().mapToInt(BtfType.VarSecInfo::type).toArray();
                default -> new int[0];
            };
            for (int r : refs) {
                if (r < 0 || r >= types.size()) {
                    throw new BtfFormatException(".BTF: type #" + id + " (" + t.kind().name().toLowerCase()
                            + " '" + t.name() + "') refers to type #" + Integer.toUnsignedString(r) + ", which does not exist");
                }
            }
            if (t instanceof BtfType.FuncProto fp && (fp.returnType() < 0 || fp.returnType() >= types.size())) {
                throw new BtfFormatException(".BTF: function prototype #" + id + " returns type #"
                        + Integer.toUnsignedString(fp.returnType()) + ", which does not exist");
            }
        }
    }

    /** The strings of a BTF blob, decoded on demand. */
    private static final class Strings {
        private final byte[] raw;
        private final int start;
        private final int len;
        private final Map<Integer, String> cache = new HashMap<>();

        Strings(byte[] raw, int start, int len) {
            this.raw = raw;
            this.start = start;
            this.len = len;
        }

        String get(int off, int id) throws BtfFormatException {
            String s = cache.get(off);
            if (s != null) {
                return s;
            }
            if (off < 0 || off >= len) {
                throw new BtfFormatException(".BTF: type #" + id + " names string offset "
                        + Integer.toUnsignedString(off) + ", outside the " + len + "-byte string section");
            }
            int end = start + off;
            while (end < start + len && raw[end] != 0) {
                end++;
            }
            if (end == start + len) {
                throw new BtfFormatException(".BTF: string at offset " + off + " is not NUL-terminated");
            }
            s = new String(raw, start + off, end - start - off, StandardCharsets.UTF_8);
            cache.put(off, s);
            return s;
        }
    }

    /** The string at {@code offset} of the string section, or null when the offset is outside it. */
    public String string(int offset) {
        if (offset < 0 || offset >= strLen) {
            return null;
        }
        int end = strStart + offset;
        while (end < strStart + strLen && raw[end] != 0) {
            end++;
        }
        return new String(raw, strStart + offset, end - strStart - offset, StandardCharsets.UTF_8);
    }

    /** Every type; index = type id, index 0 is void. */
    public List<BtfType> types() {
        return types;
    }

    /** The type with id {@code id}. */
    public BtfType type(int id) {
        if (id < 0 || id >= types.size()) {
            throw new IllegalArgumentException("no BTF type #" + Integer.toUnsignedString(id) + " (" + types.size() + " types)");
        }
        return types.get(id);
    }

    /** The ids of the types named {@code name}. */
    public List<Integer> idsByName(String name) {
        return List.copyOf(byName.getOrDefault(name, List.of()));
    }

    /** The id of the type of {@code kind} named {@code name}. */
    public Optional<Integer> find(BtfKind kind, String name) {
        for (int id : byName.getOrDefault(name, List.of())) {
            if (types.get(id).kind() == kind) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /** Follows typedefs and qualifiers from {@code id} to the underlying type's id. */
    public int skipQualifiers(int id) {
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            switch (type(id)) {
                case BtfType.Typedef t -> id = t.type();
                case BtfType.Qualifier q -> id = q.type();
                default -> {
                    return id;
                }
            }
        }
        return id;
    }

    /** The size in bytes of type {@code id}, or -1 when it has none (void, functions) or cannot be resolved. */
    public long sizeOf(int id) {
        long mult = 1;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            if (id < 0 || id >= types.size()) {
                return -1;
            }
            switch (types.get(id)) {
                case BtfType.Int t -> { return mult * t.size(); }
                case BtfType.Struct t -> { return mult * Integer.toUnsignedLong(t.size()); }
                case BtfType.Union t -> { return mult * Integer.toUnsignedLong(t.size()); }
                case BtfType.Enum t -> { return mult * t.size(); }
                case BtfType.Float t -> { return mult * t.size(); }
                case BtfType.DataSec t -> { return mult * Integer.toUnsignedLong(t.size()); }
                case BtfType.Ptr t -> { return mult * 8; }
                case BtfType.Typedef t -> id = t.type();
                case BtfType.Qualifier t -> id = t.type();
                case BtfType.Var t -> id = t.type();
                case BtfType.Array t -> {
                    mult *= Integer.toUnsignedLong(t.nelems());
                    if (mult > Integer.MAX_VALUE) {
                        return -1;
                    }
                    id = t.type();
                }
                default -> { return -1; }
            }
        }
        return -1;
    }

    /** A C-like spelling of type {@code id}, e.g. {@code struct flow_key}, {@code __u32}, {@code char[16]}. */
    public String describe(int id) {
        return describe(id, 0);
    }

    private String describe(int id, int depth) {
        if (depth > 8) {
            return "...";
        }
        if (id < 0 || id >= types.size()) {
            return "#" + Integer.toUnsignedString(id);
        }
        BtfType t = types.get(id);
        return switch (t) {
            case BtfType.Void v -> "void";
            case BtfType.Struct s -> "struct " + (s.name().isEmpty() ? "{...}" : s.name());
            case BtfType.Union u -> "union " + (u.name().isEmpty() ? "{...}" : u.name());
            case BtfType.Enum e -> "enum " + (e.name().isEmpty() ? "{...}" : e.name());
            case BtfType.Fwd f -> (f.union() ? "union " : "struct ") + f.name();
            case BtfType.Ptr p -> describe(p.type(), depth + 1) + " *";
            case BtfType.Array a -> describe(a.type(), depth + 1) + "[" + Integer.toUnsignedString(a.nelems()) + "]";
            case BtfType.Qualifier q -> q.kind() == BtfKind.TYPE_TAG ? describe(q.type(), depth + 1)
                    : q.kind().name().toLowerCase() + " " + describe(q.type(), depth + 1);
            case BtfType.FuncProto fp -> describe(fp.returnType(), depth + 1) + " (*)(...)";
            default -> t.name().isEmpty() ? t.kind().name().toLowerCase() : t.name();
        };
    }

    /** The raw BTF bytes (a copy), as parsed. */
    public byte[] raw() {
        return raw.clone();
    }

    /** Byte offset of type {@code id} inside the type section (for in-place sanitizing). */
    int typeOffset(int id) {
        return offsets[id];
    }

    int typeStart() {
        return typeStart;
    }

    int typeLength() {
        return typeLen;
    }

    int stringStart() {
        return strStart;
    }

    int stringLength() {
        return strLen;
    }

    byte[] rawNoCopy() {
        return raw;
    }

    @Override
    public String toString() {
        return "BTF with " + (types.size() - 1) + " types, " + strLen + " bytes of strings";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Btf other && Arrays.equals(raw, other.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }
}
