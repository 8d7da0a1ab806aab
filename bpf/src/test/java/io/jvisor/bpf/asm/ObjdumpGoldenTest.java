package io.jvisor.bpf.asm;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden tests: C programs compiled with clang, disassembled by {@link Disassembler} and by
 * {@code llvm-objdump -d} (LLVM 19+; the comparison was made with Debian's llvm-19 19.1.7), must
 * match line for line. Only the documented differences are normalized (see {@link Disassembler}):
 * {@code call local}/{@code call kfunc} print as llvm-objdump's plain {@code call}, and lines of
 * 4-byte atomics (opcode 0xc3) are compared with {@code llvm-objdump -d --mattr=+alu32}, which is
 * the only mode in which llvm-objdump prints them right. Each object is compiled with the newest
 * clang for cpu v3 and v4, and with Debian's default clang (14 on bookworm, which still emits
 * {@code LBB} labels as symbols) when that is another version.
 */
class ObjdumpGoldenTest {
    @TempDir
    static Path dir;

    private static final String PRELUDE = """
            typedef unsigned char __u8;
            typedef unsigned short __u16;
            typedef unsigned int __u32;
            typedef unsigned long long __u64;
            typedef signed char __s8;
            typedef short __s16;
            typedef int __s32;
            typedef long long __s64;
            #define SEC(name) __attribute__((section(name), used))
            #define __uint(name, val) int (*name)[val]
            #define __type(name, val) typeof(val) *name
            #define noinline __attribute__((noinline))
            struct xdp_md { __u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
            static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
            static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *) 2;
            static __u64 (*bpf_ktime_get_ns)(void) = (void *) 5;
            static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *) 23;
            char LICENSE[] SEC("license") = "GPL";
            """;

    /** XDP header parsing: bounds checks, byte swaps, VLAN tags, IPv4 and UDP/TCP ports. */
    private static final String XDP_PARSE = """
            struct eth { __u8 dst[6], src[6]; __u16 proto; };
            struct vlan { __u16 tci, proto; };
            struct ip { __u8 vihl, tos; __u16 len, id, frag; __u8 ttl, proto; __u16 csum; __u32 saddr, daddr; };
            struct l4 { __u16 sport, dport; };
            SEC("xdp") int parse(struct xdp_md *ctx) {
                void *data = (void *)(long) ctx->data, *end = (void *)(long) ctx->data_end;
                struct eth *eth = data;
                if ((void *)(eth + 1) > end) return 1;
                __u16 proto = eth->proto;
                void *next = eth + 1;
                for (int i = 0; i < 2; i++) {
                    if (proto != __builtin_bswap16(0x8100)) break;
                    struct vlan *v = next;
                    if ((void *)(v + 1) > end) return 1;
                    proto = v->proto;
                    next = v + 1;
                }
                if (proto != __builtin_bswap16(0x0800)) return 2;
                struct ip *ip = next;
                if ((void *)(ip + 1) > end) return 1;
                if ((ip->vihl & 0xf) != 5 || ip->ttl <= 1) return 1;
                struct l4 *l4 = (void *)(ip + 1);
                if ((void *)(l4 + 1) > end) return 1;
                if (ip->proto == 17 && __builtin_bswap16(l4->dport) == 53) return 3;
                if (ip->proto == 6 && l4->sport == l4->dport) return bpf_redirect(ip->daddr & 0xff, 0);
                return __builtin_bswap32(ip->saddr) > 0x0a000000u ? 2 : 1;
            }
            """;

    /** Loops, a switch and signed arithmetic. */
    private static final String LOOPS = """
            SEC("socket") int loops(struct xdp_md *ctx) {
                __u64 sum = 0;
                __s32 s = (__s32) ctx->ingress_ifindex;
                #pragma clang loop unroll(disable)
                for (int i = 0; i < 64; i++) {
                    sum += (sum << 3) ^ (i * 2654435761u);
                    if (sum > 1000000) break;
                }
                int n = ctx->rx_queue_index;
                while (n > 7 && n < 100) n -= 3;
                switch (n) {
                case 1: sum += 11; break;
                case 2: sum *= 13; break;
                case 5: sum /= 7; break;
                default: sum %= 1000;
                }
            #if __BPF_CPU_VERSION__ >= 4
                s = s / 3 + s % 5 - (s >> 2);
            #else
                s = (s >> 2) ^ 5;
            #endif
                return (int) (sum + (__s64) s + (__s16) ctx->egress_ifindex + (__s8) ctx->data_meta);
            }
            """;

    /** Atomic operations of 4 and 8 bytes, with and without fetching. */
    private static final String ATOMICS = """
            __u64 counter64;
            __u32 counter32;
            SEC("socket") int atomics(void *ctx) {
                __sync_fetch_and_add(&counter64, 1);
                __sync_fetch_and_add(&counter32, 2);
                __u64 a = __sync_fetch_and_add(&counter64, 3);
                __u32 b = __sync_fetch_and_add(&counter32, 4);
                __u64 c = __sync_fetch_and_or(&counter64, 5) + __sync_fetch_and_and(&counter64, 6)
                        + __sync_fetch_and_xor(&counter64, 7);
                __u32 d = __sync_fetch_and_or(&counter32, 8) + __sync_fetch_and_and(&counter32, 9)
                        + __sync_fetch_and_xor(&counter32, 10);
                __sync_fetch_and_or(&counter64, 11);
                __sync_fetch_and_and(&counter32, 12);
                __sync_fetch_and_xor(&counter64, 13);
                __u64 e = __sync_lock_test_and_set(&counter64, 14);
                __u32 f = __sync_lock_test_and_set(&counter32, 15);
                __u64 g = __sync_val_compare_and_swap(&counter64, a, 16);
                __u32 h = __sync_val_compare_and_swap(&counter32, b, 17);
                return (int) (a + b + c + d + e + f + g + h);
            }
            """;

    /** bpf-to-bpf calls: static and global functions, called from two programs. */
    private static final String CALLS = """
            static noinline int square(int x) { return x * x; }
            static noinline int sum3(int a, int b, int c) { return square(a) + b * c; }
            noinline int global_helper(struct xdp_md *ctx) { return ctx ? (int) ctx->ingress_ifindex : -1; }
            SEC("xdp") int caller(struct xdp_md *ctx) {
                return sum3(ctx->rx_queue_index, 3, 4) + global_helper(ctx);
            }
            SEC("xdp") int other(struct xdp_md *ctx) {
                return square(ctx->egress_ifindex) > 100 ? 1 : 2;
            }
            """;

    /** Map lookups and updates, and global data in .data, .bss and .rodata. */
    private static final String MAPS = """
            struct { __uint(type, 2); __uint(max_entries, 256); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
            struct { __uint(type, 1); __uint(max_entries, 1024); __type(key, __u64); __type(value, __u32); } seen SEC(".maps");
            __u64 packets = 1;
            __u32 drops;
            const volatile __u32 limit = 100;
            SEC("xdp") int maps(struct xdp_md *ctx) {
                __u32 key = ctx->rx_queue_index & 0xff;
                __u64 *v = bpf_map_lookup_elem(&counts, &key);
                if (v) *v += 1;
                __u64 now = bpf_ktime_get_ns();
                __u32 one = 1;
                if (bpf_map_lookup_elem(&seen, &now) == 0) bpf_map_update_elem(&seen, &now, &one, 0);
                packets++;
                if (packets > limit) { drops++; return 1; }
                return 2;
            }
            """;

    /** Inline assembly of every instruction kind that LLVM 19 knows; needs cpu v4. */
    private static final String EVERYTHING_V4 = """
            SEC("socket") int everything(void *ctx) {
              asm volatile(
                "r6 = r1\\n r0 = *(u8 *)skb[1]\\n r0 = *(u16 *)skb[2]\\n r0 = *(u32 *)skb[3]\\n"
                "r0 = *(u8 *)skb[r3]\\n r0 = *(u16 *)skb[r4]\\n r0 = *(u32 *)skb[r5]\\n"
                "r1 = (s8)r2\\n r1 = (s16)r2\\n r1 = (s32)r2\\n w1 = (s8)w2\\n w1 = (s16)w2\\n"
                "r1 s/= r2\\n r1 s/= -3\\n w1 s%%= w2\\n w1 s%%= 5\\n r1 s%%= 7\\n w1 s/= 9\\n r1 %%= r3\\n w2 /= w4\\n"
                "r1 = bswap16 r1\\n r1 = bswap32 r1\\n r1 = bswap64 r1\\n"
                "r1 = le16 r1\\n r1 = le32 r1\\n r1 = le64 r1\\n r1 = be16 r1\\n r1 = be32 r1\\n r1 = be64 r1\\n"
                "r1 = *(s8 *)(r2 + 4)\\n r1 = *(s16 *)(r2 - 4)\\n r1 = *(s32 *)(r10 - 8)\\n"
                "w1 = *(u8 *)(r2 + 1)\\n w1 = *(u16 *)(r2 + 2)\\n w1 = *(u32 *)(r2 + 4)\\n r1 = *(u64 *)(r2 + 8)\\n"
                "*(u8 *)(r10 - 1) = w1\\n *(u16 *)(r10 - 2) = w1\\n *(u32 *)(r10 - 4) = w1\\n *(u64 *)(r10 - 8) = r1\\n"
                "*(u8 *)(r10 - 1) = 1\\n *(u16 *)(r10 - 2) = -2\\n *(u32 *)(r10 - 4) = 3\\n *(u64 *)(r10 - 8) = -4\\n"
                "gotol +1\\n r0 = 0\\n may_goto +1\\n r0 = 1\\n goto +0\\n"
                "lock *(u32 *)(r10 - 4) += w1\\n lock *(u32 *)(r10 - 4) |= w1\\n"
                "lock *(u32 *)(r10 - 4) &= w1\\n lock *(u32 *)(r10 - 4) ^= w1\\n"
                "w1 = atomic_fetch_add((u32 *)(r10 - 4), w1)\\n w1 = atomic_fetch_or((u32 *)(r10 - 4), w1)\\n"
                "w1 = atomic_fetch_and((u32 *)(r10 - 4), w1)\\n w1 = atomic_fetch_xor((u32 *)(r10 - 4), w1)\\n"
                "w1 = xchg32_32(r10 - 4, w1)\\n w0 = cmpxchg32_32(r10 - 4, w0, w1)\\n"
                "lock *(u64 *)(r10 - 8) += r1\\n lock *(u64 *)(r10 - 8) |= r1\\n"
                "lock *(u64 *)(r10 - 8) &= r1\\n lock *(u64 *)(r10 - 8) ^= r1\\n"
                "r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\\n r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)\\n"
                "r1 = atomic_fetch_and((u64 *)(r10 - 8), r1)\\n r1 = atomic_fetch_xor((u64 *)(r10 - 8), r1)\\n"
                "r1 = xchg_64(r10 - 8, r1)\\n r0 = cmpxchg_64(r10 - 8, r0, r1)\\n"
                "w1 = -w1\\n r1 = -r1\\n r1 = 0x123456789abcdef ll\\n r1 = -1 ll\\n w3 = 0x7fffffff\\n r3 = -0x80000000\\n"
                "w1 <<= 3\\n w1 >>= w2\\n w1 s>>= 31\\n r1 ^= r1\\n r1 &= -16\\n r1 |= 1\\n r1 -= r2\\n"
                "if w1 & 3 goto +1\\n if r1 s<= r2 goto -1\\n if w1 s> w2 goto +0\\n if r1 == 0 goto +0\\n"
                "if r1 != r2 goto +0\\n if w1 < 5 goto +0\\n if r1 <= r2 goto +0\\n if w1 >= 9 goto +0\\n"
                "if r1 s< -1 goto +0\\n if w1 s>= w2 goto +0\\n if r1 > r2 goto +0\\n"
                "callx r3\\n call 7\\n"
                ::: "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9");
              return 0;
            }
            """;

    record Build(String name, Path object, String how) {
        @Override
        public String toString() {
            return name + " (" + how + ")";
        }
    }

    private static List<Build> built;

    static synchronized Stream<Build> objects() {
        if (built == null) {
            built = compileAll();
        }
        return built.stream();
    }

    private record Job(LlvmTools.Tool clang, String name, String source, String cpu) {}

    private static List<Build> compileAll() {
        LlvmTools.Tool newest = LlvmTools.newestClang();
        LlvmTools.objdump(); // skip (or fail under CI) before compiling anything
        Map<String, String> programs = new LinkedHashMap<>();
        programs.put("xdp_parse", XDP_PARSE);
        programs.put("loops", LOOPS);
        programs.put("atomics", ATOMICS);
        programs.put("calls", CALLS);
        programs.put("maps", MAPS);
        List<Job> jobs = new ArrayList<>();
        boolean v4 = newest.major() >= 18;
        for (var p : programs.entrySet()) {
            jobs.add(new Job(newest, p.getKey(), PRELUDE + p.getValue(), "v3"));
            if (v4) {
                jobs.add(new Job(newest, p.getKey(), PRELUDE + p.getValue(), "v4"));
            }
        }
        if (v4) {
            jobs.add(new Job(newest, "everything", PRELUDE + EVERYTHING_V4, "v4"));
        }
        LlvmTools.Tool old = LlvmTools.defaultClang().orElse(null);
        if (old != null && old.major() != newest.major()) {
            for (var p : programs.entrySet()) {
                jobs.add(new Job(old, p.getKey(), PRELUDE + p.getValue(), "v3"));
            }
        }
        return jobs.parallelStream().map(j -> {
            try {
                return build(j.clang(), j.name(), j.source(), j.cpu());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).toList();
    }

    private static Build build(LlvmTools.Tool clang, String name, String source, String cpu) throws IOException {
        String tag = name + "-clang" + clang.major() + "-" + cpu;
        Path o = LlvmTools.compile(clang, source, dir, tag, "-mcpu=" + cpu);
        return new Build(name, o, "clang " + clang.major() + " -mcpu=" + cpu);
    }

    private static String objdump(Path object, String... flags) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(LlvmTools.objdump().path().toString());
        cmd.addAll(List.of(flags));
        cmd.add(object.toString());
        return LlvmTools.run(cmd);
    }

    private static String ours(Path object, boolean relocations) throws IOException {
        return Disassembler.objdump(object.toString(), Disassembler.Section.fromElf(Files.readAllBytes(object)),
                relocations);
    }

    /** Our line with the documented differences undone, so that it reads as llvm-objdump's. */
    private static String normalize(String line) {
        return line.replace("\tcall local ", "\tcall ").replaceFirst("\tcall kfunc (\\S+?)(, \\S+)?$", "\tcall $1");
    }

    private static void assertSameListing(String ours, String theirs, String theirsAlu32) {
        List<String> mine = ours.lines().toList();
        List<String> plain = theirs.lines().toList();
        List<String> alu32 = theirsAlu32.lines().toList();
        assertThat(mine).as("line count").hasSameSizeAs(plain);
        assertThat(ours).doesNotContain("<unknown>");
        for (int i = 0; i < mine.size(); i++) {
            String line = mine.get(i);
            // 4-byte atomics: llvm-objdump prints them right only with --mattr=+alu32.
            String expected = line.matches("\\s*\\d+:\tc3 .*") ? alu32.get(i) : plain.get(i);
            assertThat(normalize(line)).as("line %d", i + 1).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @MethodSource("objects")
    void disassemblyMatchesLlvmObjdump(Build b) throws IOException {
        assertSameListing(ours(b.object(), false), objdump(b.object(), "-d"),
                objdump(b.object(), "-d", "--mattr=+alu32"));
    }

    @ParameterizedTest
    @MethodSource("objects")
    void disassemblyWithRelocationsMatchesLlvmObjdump(Build b) throws IOException {
        assertSameListing(ours(b.object(), true), objdump(b.object(), "-dr"),
                objdump(b.object(), "-dr", "--mattr=+alu32"));
    }

    /** Corrupt objects give an IllegalArgumentException, never another exception or a huge allocation. */
    @org.junit.jupiter.api.Test
    void corruptObjectsAreRefusedCleanly() throws IOException {
        byte[] original = Files.readAllBytes(objects().findFirst().orElseThrow().object());
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 3000; i++) {
            byte[] b = original.clone();
            for (int j = 1 + random.nextInt(6); j > 0; j--) {
                b[random.nextInt(random.nextBoolean() ? 64 : b.length)] = (byte) random.nextInt(256);
            }
            try {
                Disassembler.objdump("x.o", Disassembler.Section.fromElf(b), true);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }

    /** Both listings assemble back to the object's code, with the relocations as references. */
    @ParameterizedTest
    @MethodSource("objects")
    void listingsAssembleToTheObjectCode(Build b) throws IOException {
        List<Disassembler.Section> sections = Disassembler.Section.fromElf(Files.readAllBytes(b.object()));
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        int relocations = 0;
        for (Disassembler.Section s : sections) {
            code.writeBytes(s.code());
            relocations += s.relocations().size();
        }
        for (String listing : List.of(ours(b.object(), true), objdump(b.object(), "-dr", "--mattr=+alu32"))) {
            List<Insn> program = Assembler.assemble(listing);
            assertThat(Insn.encode(program)).isEqualTo(code.toByteArray());
            assertThat(program.stream().filter(i -> Disassembler.reference(i) != null)).hasSize(relocations);
        }
    }
}
