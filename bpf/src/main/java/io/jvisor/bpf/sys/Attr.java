package io.jvisor.bpf.sys;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The parts of {@code union bpf_attr} (include/uapi/linux/bpf.h) and of the info structs that
 * jvisor sends and reads. Each layout is declared once here, with the kernel's field names, and
 * every field offset used elsewhere is derived from it. {@link MemoryLayout#structLayout} checks the
 * natural alignment of each field, so a mistake in the padding fails at class initialisation.
 */
public final class Attr {
    private Attr() {}

    private static long off(StructLayout l, String field) {
        return l.byteOffset(groupElement(field));
    }

    private static MemoryLayout u32(String name) {
        return JAVA_INT.withName(name);
    }

    private static MemoryLayout u64(String name) {
        return JAVA_LONG.withName(name);
    }

    private static MemoryLayout chars(String name, int n) {
        return sequenceLayout(n, JAVA_BYTE).withName(name);
    }

    /** The bpf() commands. */
    public static final int MAP_CREATE = 0, MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2, MAP_DELETE_ELEM = 3,
            MAP_GET_NEXT_KEY = 4, PROG_LOAD = 5, OBJ_PIN = 6, OBJ_GET = 7, PROG_TEST_RUN = 10,
            PROG_GET_NEXT_ID = 11, MAP_GET_NEXT_ID = 12, PROG_GET_FD_BY_ID = 13, MAP_GET_FD_BY_ID = 14,
            OBJ_GET_INFO_BY_FD = 15, BTF_LOAD = 18, BTF_GET_FD_BY_ID = 19, MAP_LOOKUP_AND_DELETE_ELEM = 21, MAP_FREEZE = 22,
            MAP_LOOKUP_BATCH = 24, MAP_LOOKUP_AND_DELETE_BATCH = 25, MAP_UPDATE_BATCH = 26,
            MAP_DELETE_BATCH = 27, LINK_CREATE = 28, LINK_UPDATE = 29, LINK_GET_FD_BY_ID = 30,
            LINK_GET_NEXT_ID = 31, LINK_DETACH = 34;

    /** BPF_MAP_CREATE. */
    public static final class MapCreate {
        public static final StructLayout LAYOUT = structLayout(
                u32("map_type"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
                u32("inner_map_fd"), u32("numa_node"), chars("map_name", 16), u32("map_ifindex"),
                u32("btf_fd"), u32("btf_key_type_id"), u32("btf_value_type_id"),
                u32("btf_vmlinux_value_type_id"), u64("map_extra"));
        public static final long MAP_TYPE = off(LAYOUT, "map_type"), KEY_SIZE = off(LAYOUT, "key_size"),
                VALUE_SIZE = off(LAYOUT, "value_size"), MAX_ENTRIES = off(LAYOUT, "max_entries"),
                MAP_FLAGS = off(LAYOUT, "map_flags"), INNER_MAP_FD = off(LAYOUT, "inner_map_fd"),
                MAP_NAME = off(LAYOUT, "map_name"), MAP_IFINDEX = off(LAYOUT, "map_ifindex"),
                BTF_FD = off(LAYOUT, "btf_fd"), BTF_KEY_TYPE_ID = off(LAYOUT, "btf_key_type_id"),
                BTF_VALUE_TYPE_ID = off(LAYOUT, "btf_value_type_id"), MAP_EXTRA = off(LAYOUT, "map_extra");
    }

    /** BPF_MAP_*_ELEM and BPF_MAP_GET_NEXT_KEY. */
    public static final class MapElem {
        public static final StructLayout LAYOUT = structLayout(
                u32("map_fd"), paddingLayout(4), u64("key"), u64("value"), u64("flags"));
        public static final long MAP_FD = off(LAYOUT, "map_fd"), KEY = off(LAYOUT, "key"),
                VALUE = off(LAYOUT, "value"), NEXT_KEY = VALUE, FLAGS = off(LAYOUT, "flags");
    }

    /** BPF_MAP_*_BATCH. */
    public static final class Batch {
        public static final StructLayout LAYOUT = structLayout(
                u64("in_batch"), u64("out_batch"), u64("keys"), u64("values"), u32("count"), u32("map_fd"),
                u64("elem_flags"), u64("flags"));
        public static final long IN_BATCH = off(LAYOUT, "in_batch"), OUT_BATCH = off(LAYOUT, "out_batch"),
                KEYS = off(LAYOUT, "keys"), VALUES = off(LAYOUT, "values"), COUNT = off(LAYOUT, "count"),
                MAP_FD = off(LAYOUT, "map_fd"), ELEM_FLAGS = off(LAYOUT, "elem_flags"),
                FLAGS = off(LAYOUT, "flags");
    }

    /** BPF_MAP_FREEZE, BPF_LINK_DETACH and other single-fd commands. */
    public static final class SingleFd {
        public static final StructLayout LAYOUT = structLayout(u32("fd"), paddingLayout(4));
        public static final long FD = off(LAYOUT, "fd");
    }

    /** BPF_PROG_LOAD. */
    public static final class ProgLoad {
        public static final StructLayout LAYOUT = structLayout(
                u32("prog_type"), u32("insn_cnt"), u64("insns"), u64("license"), u32("log_level"),
                u32("log_size"), u64("log_buf"), u32("kern_version"), u32("prog_flags"), chars("prog_name", 16),
                u32("prog_ifindex"), u32("expected_attach_type"), u32("prog_btf_fd"),
                u32("func_info_rec_size"), u64("func_info"), u32("func_info_cnt"), u32("line_info_rec_size"),
                u64("line_info"), u32("line_info_cnt"), u32("attach_btf_id"), u32("attach_prog_fd"),
                u32("core_relo_cnt"), u64("fd_array"), u64("core_relos"), u32("core_relo_rec_size"),
                u32("log_true_size"));
        public static final long PROG_TYPE = off(LAYOUT, "prog_type"), INSN_CNT = off(LAYOUT, "insn_cnt"),
                INSNS = off(LAYOUT, "insns"), LICENSE = off(LAYOUT, "license"), LOG_LEVEL = off(LAYOUT, "log_level"),
                LOG_SIZE = off(LAYOUT, "log_size"), LOG_BUF = off(LAYOUT, "log_buf"),
                PROG_FLAGS = off(LAYOUT, "prog_flags"), PROG_NAME = off(LAYOUT, "prog_name"),
                PROG_IFINDEX = off(LAYOUT, "prog_ifindex"),
                EXPECTED_ATTACH_TYPE = off(LAYOUT, "expected_attach_type"), PROG_BTF_FD = off(LAYOUT, "prog_btf_fd"),
                FUNC_INFO_REC_SIZE = off(LAYOUT, "func_info_rec_size"), FUNC_INFO = off(LAYOUT, "func_info"),
                FUNC_INFO_CNT = off(LAYOUT, "func_info_cnt"), LINE_INFO_REC_SIZE = off(LAYOUT, "line_info_rec_size"),
                LINE_INFO = off(LAYOUT, "line_info"), LINE_INFO_CNT = off(LAYOUT, "line_info_cnt"),
                ATTACH_BTF_ID = off(LAYOUT, "attach_btf_id"), ATTACH_PROG_FD = off(LAYOUT, "attach_prog_fd"),
                FD_ARRAY = off(LAYOUT, "fd_array"), LOG_TRUE_SIZE = off(LAYOUT, "log_true_size");
    }

    /** BPF_OBJ_PIN and BPF_OBJ_GET. */
    public static final class ObjPin {
        public static final StructLayout LAYOUT = structLayout(
                u64("pathname"), u32("bpf_fd"), u32("file_flags"), u32("path_fd"), paddingLayout(4));
        public static final long PATHNAME = off(LAYOUT, "pathname"), BPF_FD = off(LAYOUT, "bpf_fd"),
                FILE_FLAGS = off(LAYOUT, "file_flags");
    }

    /** BPF_PROG_TEST_RUN. */
    public static final class TestRun {
        public static final StructLayout LAYOUT = structLayout(
                u32("prog_fd"), u32("retval"), u32("data_size_in"), u32("data_size_out"), u64("data_in"),
                u64("data_out"), u32("repeat"), u32("duration"), u32("ctx_size_in"), u32("ctx_size_out"),
                u64("ctx_in"), u64("ctx_out"), u32("flags"), u32("cpu"), u32("batch_size"), paddingLayout(4));
        public static final long PROG_FD = off(LAYOUT, "prog_fd"), RETVAL = off(LAYOUT, "retval"),
                DATA_SIZE_IN = off(LAYOUT, "data_size_in"), DATA_SIZE_OUT = off(LAYOUT, "data_size_out"),
                DATA_IN = off(LAYOUT, "data_in"), DATA_OUT = off(LAYOUT, "data_out"), REPEAT = off(LAYOUT, "repeat"),
                DURATION = off(LAYOUT, "duration"), CTX_SIZE_IN = off(LAYOUT, "ctx_size_in"),
                CTX_SIZE_OUT = off(LAYOUT, "ctx_size_out"), CTX_IN = off(LAYOUT, "ctx_in"),
                CTX_OUT = off(LAYOUT, "ctx_out"), FLAGS = off(LAYOUT, "flags"), CPU = off(LAYOUT, "cpu"),
                BATCH_SIZE = off(LAYOUT, "batch_size");
    }

    /** BPF_OBJ_GET_INFO_BY_FD. */
    public static final class InfoByFd {
        public static final StructLayout LAYOUT = structLayout(u32("bpf_fd"), u32("info_len"), u64("info"));
        public static final long BPF_FD = off(LAYOUT, "bpf_fd"), INFO_LEN = off(LAYOUT, "info_len"),
                INFO = off(LAYOUT, "info");
    }

    /** BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID. */
    public static final class GetId {
        public static final StructLayout LAYOUT = structLayout(u32("id"), u32("next_id"), u32("open_flags"));
        public static final long ID = off(LAYOUT, "id"), NEXT_ID = off(LAYOUT, "next_id");
    }

    /** BPF_LINK_CREATE, with the tcx member of its trailing union. */
    public static final class LinkCreate {
        public static final StructLayout LAYOUT = structLayout(
                u32("prog_fd"), u32("target_ifindex"), u32("attach_type"), u32("flags"),
                u32("relative_fd"), paddingLayout(4), u64("expected_revision"));
        public static final long PROG_FD = off(LAYOUT, "prog_fd"), TARGET_IFINDEX = off(LAYOUT, "target_ifindex"),
                ATTACH_TYPE = off(LAYOUT, "attach_type"), FLAGS = off(LAYOUT, "flags"),
                RELATIVE_FD = off(LAYOUT, "relative_fd"), EXPECTED_REVISION = off(LAYOUT, "expected_revision");
    }

    /** BPF_LINK_UPDATE. */
    public static final class LinkUpdate {
        public static final StructLayout LAYOUT = structLayout(
                u32("link_fd"), u32("new_prog_fd"), u32("flags"), u32("old_prog_fd"));
        public static final long LINK_FD = off(LAYOUT, "link_fd"), NEW_PROG_FD = off(LAYOUT, "new_prog_fd"),
                FLAGS = off(LAYOUT, "flags"), OLD_PROG_FD = off(LAYOUT, "old_prog_fd");
    }

    /** BPF_BTF_LOAD. */
    public static final class BtfLoad {
        public static final StructLayout LAYOUT = structLayout(
                u64("btf"), u64("btf_log_buf"), u32("btf_size"), u32("btf_log_size"), u32("btf_log_level"),
                u32("btf_log_true_size"));
        public static final long BTF = off(LAYOUT, "btf"), BTF_LOG_BUF = off(LAYOUT, "btf_log_buf"),
                BTF_SIZE = off(LAYOUT, "btf_size"), BTF_LOG_SIZE = off(LAYOUT, "btf_log_size"),
                BTF_LOG_LEVEL = off(LAYOUT, "btf_log_level");
    }

    /** struct bpf_btf_info. */
    public static final class BtfInfo {
        public static final StructLayout LAYOUT = structLayout(
                u64("btf"), u32("btf_size"), u32("id"), u64("name"), u32("name_len"), u32("kernel_btf"));
        public static final long BTF = off(LAYOUT, "btf"), BTF_SIZE = off(LAYOUT, "btf_size"), ID = off(LAYOUT, "id");
    }

    /** struct bpf_map_info. */
    public static final class MapInfo {
        public static final StructLayout LAYOUT = structLayout(
                u32("type"), u32("id"), u32("key_size"), u32("value_size"), u32("max_entries"), u32("map_flags"),
                chars("name", 16), u32("ifindex"), u32("btf_vmlinux_value_type_id"), u64("netns_dev"),
                u64("netns_ino"), u32("btf_id"), u32("btf_key_type_id"), u32("btf_value_type_id"),
                u32("btf_vmlinux_id"), u64("map_extra"));
        public static final long TYPE = off(LAYOUT, "type"), ID = off(LAYOUT, "id"), KEY_SIZE = off(LAYOUT, "key_size"),
                VALUE_SIZE = off(LAYOUT, "value_size"), MAX_ENTRIES = off(LAYOUT, "max_entries"),
                MAP_FLAGS = off(LAYOUT, "map_flags"), NAME = off(LAYOUT, "name"), BTF_ID = off(LAYOUT, "btf_id"),
                BTF_KEY_TYPE_ID = off(LAYOUT, "btf_key_type_id"), BTF_VALUE_TYPE_ID = off(LAYOUT, "btf_value_type_id");
    }

    /** struct bpf_prog_info, up to the fields jvisor reads. */
    public static final class ProgInfo {
        public static final StructLayout LAYOUT = structLayout(
                u32("type"), u32("id"), chars("tag", 8), u32("jited_prog_len"), u32("xlated_prog_len"),
                u64("jited_prog_insns"), u64("xlated_prog_insns"), u64("load_time"), u32("created_by_uid"),
                u32("nr_map_ids"), u64("map_ids"), chars("name", 16), u32("ifindex"), u32("gpl_compatible"),
                u64("netns_dev"), u64("netns_ino"), u32("nr_jited_ksyms"), u32("nr_jited_func_lens"),
                u64("jited_ksyms"), u64("jited_func_lens"), u32("btf_id"), u32("func_info_rec_size"),
                u64("func_info"), u32("nr_func_info"), u32("nr_line_info"), u64("line_info"),
                u64("jited_line_info"), u32("nr_jited_line_info"), u32("line_info_rec_size"),
                u32("jited_line_info_rec_size"), u32("nr_prog_tags"), u64("prog_tags"), u64("run_time_ns"),
                u64("run_cnt"), u64("recursion_misses"), u32("verified_insns"), u32("attach_btf_obj_id"),
                u32("attach_btf_id"), paddingLayout(4));
        public static final long TYPE = off(LAYOUT, "type"), ID = off(LAYOUT, "id"), TAG = off(LAYOUT, "tag"),
                JITED_PROG_LEN = off(LAYOUT, "jited_prog_len"), XLATED_PROG_LEN = off(LAYOUT, "xlated_prog_len"),
                XLATED_PROG_INSNS = off(LAYOUT, "xlated_prog_insns"), LOAD_TIME = off(LAYOUT, "load_time"),
                CREATED_BY_UID = off(LAYOUT, "created_by_uid"), NR_MAP_IDS = off(LAYOUT, "nr_map_ids"),
                MAP_IDS = off(LAYOUT, "map_ids"), NAME = off(LAYOUT, "name"), IFINDEX = off(LAYOUT, "ifindex"),
                GPL_COMPATIBLE = off(LAYOUT, "gpl_compatible"), BTF_ID = off(LAYOUT, "btf_id"),
                RUN_TIME_NS = off(LAYOUT, "run_time_ns"), RUN_CNT = off(LAYOUT, "run_cnt"),
                VERIFIED_INSNS = off(LAYOUT, "verified_insns");
    }

    /** struct bpf_link_info with its xdp/tcx union member. */
    public static final class LinkInfo {
        public static final StructLayout LAYOUT = structLayout(
                u32("type"), u32("id"), u32("prog_id"), paddingLayout(4), u32("ifindex"), u32("attach_type"),
                paddingLayout(56));
        public static final long TYPE = off(LAYOUT, "type"), ID = off(LAYOUT, "id"), PROG_ID = off(LAYOUT, "prog_id"),
                IFINDEX = off(LAYOUT, "ifindex"), ATTACH_TYPE = off(LAYOUT, "attach_type");
    }
}
