package io.jvisor.bpf.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.RecordComponent;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The standard codecs. Numbers are little-endian (the host order of every machine jvisor runs on)
 * unless they are the network-order variants. {@link #record(Class)} lays out a record's
 * components in declaration order with C alignment, like the matching C struct.
 */
public final class Codecs {
    private Codecs() {}

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** An unsigned byte as an int 0..255. */
    public static final Codec<Integer> U8_INT = new Codec<>() {
        public int size() { return 1; }
        public void encode(Integer v, MemorySegment out, long o) { out.set(U8, o, (byte) (int) v); }
        public Integer decode(MemorySegment in, long o) { return Byte.toUnsignedInt(in.get(U8, o)); }
    };

    /** A 16-bit little-endian unsigned value as an int. */
    public static final Codec<Integer> U16 = u16(LE16);
    /** A 16-bit network-order unsigned value (a port) as an int. */
    public static final Codec<Integer> U16_NET = u16(BE16);
    /** A 32-bit little-endian value. */
    public static final Codec<Integer> U32 = u32(LE32);
    /** A 32-bit network-order value (an IPv4 address). */
    public static final Codec<Integer> U32_NET = u32(BE32);
    /** A 64-bit little-endian value. */
    public static final Codec<Long> U64 = u64(LE64);
    /** A 64-bit network-order value. */
    public static final Codec<Long> U64_NET = u64(BE64);

    private static Codec<Integer> u16(ValueLayout.OfShort l) {
        return new Codec<>() {
            public int size() { return 2; }
            public void encode(Integer v, MemorySegment out, long o) { out.set(l, o, (short) (int) v); }
            public Integer decode(MemorySegment in, long o) { return Short.toUnsignedInt(in.get(l, o)); }
        };
    }

    private static Codec<Integer> u32(ValueLayout.OfInt l) {
        return new Codec<>() {
            public int size() { return 4; }
            public void encode(Integer v, MemorySegment out, long o) { out.set(l, o, v); }
            public Integer decode(MemorySegment in, long o) { return in.get(l, o); }
        };
    }

    private static Codec<Long> u64(ValueLayout.OfLong l) {
        return new Codec<>() {
            public int size() { return 8; }
            public void encode(Long v, MemorySegment out, long o) { out.set(l, o, v); }
            public Long decode(MemorySegment in, long o) { return in.get(l, o); }
        };
    }

    /** A fixed-length byte array. */
    public static Codec<byte[]> bytes(int length) {
        return new Codec<>() {
            public int size() { return length; }

            public void encode(byte[] v, MemorySegment out, long o) {
                if (v.length != length) {
                    throw new IllegalArgumentException("expected " + length + " bytes, got " + v.length);
                }
                MemorySegment.copy(v, 0, out, U8, o, length);
            }

            public byte[] decode(MemorySegment in, long o) {
                return in.asSlice(o, length).toArray(U8);
            }
        };
    }

    /**
     * A codec for a record whose components are {@code byte} (u8), {@code short} (u16), {@code int}
     * (u32), {@code long} (u64), {@code byte[]} with {@link Size}, or nested records. Components
     * marked {@link Network} are big-endian. Components are aligned as a C compiler would align
     * the same struct, and the size is padded to the largest alignment.
     */
    public static <R extends Record> Codec<R> record(Class<R> type) {
        RecordComponent[] comps = type.getRecordComponents();
        List<Field> fields = new ArrayList<>();
        long offset = 0;
        int maxAlign = 1;
        try {
            // Records are often nested and non-public; on the class path a private lookup reaches them.
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            for (RecordComponent c : comps) {
                Codec<Object> codec = componentCodec(c);
                int align = alignOf(c);
                offset = (offset + align - 1) / align * align;
                maxAlign = Math.max(maxAlign, align);
                MethodHandle getter = lookup.unreflect(c.getAccessor());
                fields.add(new Field(offset, codec, getter));
                offset += codec.size();
            }
            Class<?>[] types = new Class<?>[comps.length];
            for (int i = 0; i < comps.length; i++) {
                types[i] = comps[i].getType();
            }
            MethodHandle ctor = lookup.unreflectConstructor(type.getDeclaredConstructor(types));
            int size = (int) ((offset + maxAlign - 1) / maxAlign * maxAlign);
            return new RecordCodec<>(size, fields, ctor);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot build a codec for " + type.getName()
                    + ": make the record public (or open its package)", e);
        }
    }

    private record Field(long offset, Codec<Object> codec, MethodHandle getter) {}

    private record RecordCodec<R>(int size, List<Field> fields, MethodHandle ctor) implements Codec<R> {
        @Override
        public void encode(R value, MemorySegment out, long o) {
            out.asSlice(o, size).fill((byte) 0);
            try {
                for (Field f : fields) {
                    f.codec().encode(f.getter().invoke(value), out, o + f.offset());
                }
            } catch (Throwable t) {
                throw new IllegalStateException("cannot encode " + value, t);
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        public R decode(MemorySegment in, long o) {
            Object[] args = new Object[fields.size()];
            for (int i = 0; i < args.length; i++) {
                args[i] = fields.get(i).codec().decode(in, o + fields.get(i).offset());
            }
            try {
                return (R) ctor.invokeWithArguments(args);
            } catch (Throwable t) {
                throw new IllegalStateException("cannot decode a record", t);
            }
        }
    }

    private static int alignOf(RecordComponent c) {
        Class<?> t = c.getType();
        if (t == byte.class || t == byte[].class) {
            return 1;
        }
        if (t == short.class) {
            return 2;
        }
        if (t == int.class) {
            return 4;
        }
        if (t == long.class) {
            return 8;
        }
        if (t.isRecord()) {
            int a = 1;
            for (RecordComponent rc : t.getRecordComponents()) {
                a = Math.max(a, alignOf(rc));
            }
            return a;
        }
        throw new IllegalArgumentException("unsupported record component type " + t + " of " + c.getName());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Codec<Object> componentCodec(RecordComponent c) {
        Class<?> t = c.getType();
        boolean net = c.isAnnotationPresent(Network.class);
        Codec<?> codec;
        if (t == byte.class) {
            codec = new Codec<Byte>() {
                public int size() { return 1; }
                public void encode(Byte v, MemorySegment out, long o) { out.set(U8, o, v); }
                public Byte decode(MemorySegment in, long o) { return in.get(U8, o); }
            };
        } else if (t == short.class) {
            ValueLayout.OfShort l = net ? BE16 : LE16;
            codec = new Codec<Short>() {
                public int size() { return 2; }
                public void encode(Short v, MemorySegment out, long o) { out.set(l, o, v); }
                public Short decode(MemorySegment in, long o) { return in.get(l, o); }
            };
        } else if (t == int.class) {
            codec = net ? U32_NET : U32;
        } else if (t == long.class) {
            codec = net ? U64_NET : U64;
        } else if (t == byte[].class) {
            Size s = c.getAnnotation(Size.class);
            if (s == null) {
                throw new IllegalArgumentException("byte[] component " + c.getName() + " needs @Size");
            }
            codec = bytes(s.value());
        } else if (t.isRecord()) {
            codec = record((Class) t);
        } else {
            throw new IllegalArgumentException("unsupported record component type " + t + " of " + c.getName());
        }
        return (Codec<Object>) codec;
    }
}
