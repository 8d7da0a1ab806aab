package io.jvisor.bpf.elf;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.BpfProgram;
import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The instructions jvisor loads are the ones libbpf loads: each object is loaded once by
 * {@code bpftool prog loadall} and once by jvisor, and {@code bpftool prog dump xlated} of each
 * program must be the same text (with map ids replaced by map names). The dump includes the
 * kernel's rewrites, the map references, the bpf-to-bpf call targets and the BTF line info.
 */
@RequiresRoot
class XlatedComparisonTest {
    private static final Pattern MAP_ID = Pattern.compile("map\\[id:(\\d+)\\]");

    @ParameterizedTest
    @ValueSource(strings = {"xdp_count.c", "tp_getpid.c", "globals.c", "calls.c", "map_in_map.c", "tc_only.c",
            "printk.c", "sections_lite.c"})
    void jvisorLoadsWhatLibbpfLoads(String source) throws Exception {
        TestObjects.requireBpftool();
        String name = source.substring(0, source.length() - 2);
        Path work = Files.createTempDirectory("jvxlated");
        Path object = work.resolve(name + ".o"); // libbpf names global data maps after the file
        Path pins = Path.of("/sys/fs/bpf", Names.unique("jvxl"));
        try {
            Path compiled = source.equals("tc_only.c") ? TestObjects.clang().compileString(TC_ONLY, source,
                    java.util.List.of()).object() : TestObjects.compile(source);
            Files.copy(compiled, object);
            CollectionSpec spec = ObjectFile.read(object);
            CollectionTest.run("bpftool", "prog", "loadall", object.toString(), pins.toString());
            try (Collection c = Collection.load(spec)) {
                for (ObjectProgram p : spec.programs()) {
                    Path pin = pins.resolve(p.name());
                    assertThat(pin).as("bpftool pinned " + p.name()).exists();
                    String libbpf;
                    try (BpfProgram theirs = BpfProgram.openPinned(pin)) {
                        libbpf = xlated(theirs.id());
                    }
                    String jvisor = xlated(c.program(p.name()).id());
                    assertThat(jvisor).as("xlated " + p.name()).isEqualTo(libbpf);
                    assertThat(jvisor).contains("exit");
                }
            }
        } finally {
            CollectionTest.deleteTree(pins);
            CollectionTest.deleteTree(work);
        }
    }

    private static String xlated(int id) throws Exception {
        String text = CollectionTest.run("bpftool", "prog", "dump", "xlated", "id", Integer.toString(id));
        Matcher m = MAP_ID.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            try (BpfMap map = BpfMap.fromId(Integer.parseInt(m.group(1)))) {
                m.appendReplacement(sb, Matcher.quoteReplacement("map[" + map.name() + "]"));
            }
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** bpftool 7.1's libbpf predates tcx sections, so the tc comparison uses a plain "tc" object. */
    private static final String TC_ONLY = """
            #include <linux/bpf.h>
            #include <linux/pkt_cls.h>
            #include <bpf/bpf_helpers.h>

            struct {
                __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
                __uint(max_entries, 1);
                __type(key, __u32);
                __type(value, __u64);
            } bytes SEC(".maps");

            SEC("tc")
            int tc_bytes(struct __sk_buff *skb)
            {
                __u32 zero = 0;
                __u64 *v = bpf_map_lookup_elem(&bytes, &zero);
                if (v)
                    *v += skb->len;
                return skb->protocol == __builtin_bswap16(0x0806) ? TC_ACT_SHOT : TC_ACT_OK;
            }

            char LICENSE[] SEC("license") = "GPL";
            """;
}
