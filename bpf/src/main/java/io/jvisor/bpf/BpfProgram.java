package io.jvisor.bpf;

import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.features.Capabilities;
import io.jvisor.bpf.features.Capability;
import io.jvisor.bpf.sys.Attr;
import io.jvisor.bpf.sys.Kernel;
import io.jvisor.bpf.sys.Syscall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A loaded program: a kernel object owned through one file descriptor. It can be run with
 * {@link #testRun(TestRun)}, put into program arrays, and attached through {@link io.jvisor.bpf.link}.
 */
public final class BpfProgram implements AutoCloseable {
    private static final Pattern INSN_LINE = Pattern.compile("^(\\d+): \\(", Pattern.MULTILINE);
    private static final int MAX_EAGAIN_RETRIES = 5;

    private final Fd fd;
    private final ProgramType type;
    private final String name;
    private final int id;
    private final String verifierLog;

    private BpfProgram(Fd fd, ProgramType type, String name, int id, String verifierLog) {
        this.fd = fd;
        this.type = type;
        this.name = name;
        this.id = id;
        this.verifierLog = verifierLog;
    }

    /** Loads a program whose instructions reference no maps by name. */
    public static BpfProgram load(ProgramSpec spec) {
        return load(spec, Map.of(), LoadOptions.DEFAULT);
    }

    /** Loads a program with options. */
    public static BpfProgram load(ProgramSpec spec, LoadOptions options) {
        return load(spec, Map.of(), options);
    }

    /**
     * Loads a program, resolving map references ({@link Instruction#reference()} on lddw
     * instructions) against {@code maps}.
     *
     * @throws InvalidSpecException when the spec is malformed or names an unknown map
     * @throws VerifierException when the verifier refuses it; the exception carries the log
     * @throws BpfException for other kernel errors
     */
    public static BpfProgram load(ProgramSpec spec, Map<String, BpfMap> maps, LoadOptions options) {
        spec.validate();
        String what = "program '" + spec.name() + "' (" + spec.type().kernelName() + ")";
        List<Instruction> insns = resolve(spec, maps, what);
        int slots = Instruction.slots(insns);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = arena.allocate((long) slots * Instruction.SLOT, 8);
            Instruction.encodeAll(insns, code);
            MemorySegment license = arena.allocateFrom(spec.license());
            MemorySegment attr = arena.allocate(Attr.ProgLoad.LAYOUT);
            MemorySegment funcInfo = MemorySegment.NULL;
            MemorySegment lineInfo = MemorySegment.NULL;
            if (spec.btf() != null) {
                if (spec.btf().funcInfo() != null) {
                    funcInfo = arena.allocateFrom(JAVA_BYTE, spec.btf().funcInfo());
                }
                if (spec.btf().lineInfo() != null) {
                    lineInfo = arena.allocateFrom(JAVA_BYTE, spec.btf().lineInfo());
                }
            }
            int logLevel = options.logLevel();
            int logSize = options.logSize();
            int eagain = 0;
            while (true) {
                MemorySegment log = logLevel > 0 ? arena.allocate(logSize) : MemorySegment.NULL;
                attr.fill((byte) 0);
                attr.set(JAVA_INT, Attr.ProgLoad.PROG_TYPE, spec.type().value());
                attr.set(JAVA_INT, Attr.ProgLoad.INSN_CNT, slots);
                attr.set(JAVA_LONG, Attr.ProgLoad.INSNS, code.address());
                attr.set(JAVA_LONG, Attr.ProgLoad.LICENSE, license.address());
                attr.set(JAVA_INT, Attr.ProgLoad.PROG_IFINDEX, options.ifindex());
                if (spec.expectedAttachType() != null) {
                    attr.set(JAVA_INT, Attr.ProgLoad.EXPECTED_ATTACH_TYPE, spec.expectedAttachType().value());
                }
                Kernel.putName(attr, Attr.ProgLoad.PROG_NAME, spec.name());
                attr.set(JAVA_INT, Attr.ProgLoad.PROG_FLAGS, spec.flags());
                attr.set(JAVA_INT, Attr.ProgLoad.ATTACH_BTF_ID, spec.attachBtfId());
                if (spec.btf() != null) {
                    ProgramBtf b = spec.btf();
                    attr.set(JAVA_INT, Attr.ProgLoad.PROG_BTF_FD, b.btfFd());
                    if (b.funcInfoCount() > 0) {
                        attr.set(JAVA_INT, Attr.ProgLoad.FUNC_INFO_REC_SIZE, b.funcInfoRecSize());
                        attr.set(JAVA_LONG, Attr.ProgLoad.FUNC_INFO, funcInfo.address());
                        attr.set(JAVA_INT, Attr.ProgLoad.FUNC_INFO_CNT, b.funcInfoCount());
                    }
                    if (b.lineInfoCount() > 0) {
                        attr.set(JAVA_INT, Attr.ProgLoad.LINE_INFO_REC_SIZE, b.lineInfoRecSize());
                        attr.set(JAVA_LONG, Attr.ProgLoad.LINE_INFO, lineInfo.address());
                        attr.set(JAVA_INT, Attr.ProgLoad.LINE_INFO_CNT, b.lineInfoCount());
                    }
                }
                if (logLevel > 0) {
                    attr.set(JAVA_INT, Attr.ProgLoad.LOG_LEVEL, logLevel);
                    attr.set(JAVA_INT, Attr.ProgLoad.LOG_SIZE, logSize);
                    attr.set(JAVA_LONG, Attr.ProgLoad.LOG_BUF, log.address());
                }
                long r = Syscall.bpf(Attr.PROG_LOAD, attr, attr.byteSize());
                if (r >= 0) {
                    String logText = logLevel > 0 ? log.getString(0, StandardCharsets.UTF_8) : "";
                    Fd fd = Fd.adopt((int) r, what);
                    try {
                        ProgramInfo info = readInfo(fd);
                        return new BpfProgram(fd, spec.type(), spec.name(), info.id(), logText);
                    } catch (RuntimeException e) {
                        fd.close();
                        throw e;
                    }
                }
                int errno = (int) -r;
                if (errno == Errno.EAGAIN.number() && eagain++ < MAX_EAGAIN_RETRIES) {
                    continue; // the kernel asks to retry when a signal interrupted verification
                }
                if (errno == Errno.ENOSPC.number() && logLevel > 0 && logSize < LoadOptions.MAX_LOG_SIZE) {
                    int trueSize = attr.get(JAVA_INT, Attr.ProgLoad.LOG_TRUE_SIZE);
                    logSize = (int) Math.min(LoadOptions.MAX_LOG_SIZE,
                            Math.max((long) logSize * 4, trueSize + 1L));
                    continue;
                }
                if (logLevel == 0 && (errno == Errno.EACCES.number() || errno == Errno.EINVAL.number())) {
                    logLevel = 1; // fetch the verifier's explanation
                    continue;
                }
                String logText = logLevel > 0 ? log.getString(0, StandardCharsets.UTF_8) : "";
                if (!logText.isBlank()) {
                    throw verifierError("BPF_PROG_LOAD " + what, errno, logText);
                }
                throw new BpfException("BPF_PROG_LOAD " + what, errno, loadHint(errno, spec));
            }
        }
    }

    private static String loadHint(int errno, ProgramSpec spec) {
        return switch (Errno.name(errno)) {
            case "E2BIG" -> "the verifier gave up: it explored more than 1,000,000 instructions (the program has "
                    + Instruction.slots(spec.instructions()) + "); simplify loops and branches, or use bpf_loop";
            case "EINVAL" -> "the kernel refused type " + spec.type().kernelName()
                    + (spec.expectedAttachType() == null ? "" : " with expected attach type "
                    + spec.expectedAttachType().kernelName());
            default -> BpfException.defaultHint(errno);
        };
    }

    /** Builds a VerifierException from a log: the failing instruction and the verifier's verdict. */
    static VerifierException verifierError(String operation, int errno, String log) {
        int insn = -1;
        Matcher m = INSN_LINE.matcher(log);
        while (m.find()) {
            insn = Integer.parseInt(m.group(1));
        }
        String message = "";
        String[] lines = log.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String l = lines[i].trim();
            if (l.isEmpty() || l.startsWith("processed ") || l.startsWith("verification time")
                    || l.startsWith("stack depth") || INSN_LINE.matcher(l).find()) {
                continue;
            }
            message = l;
            break;
        }
        return new VerifierException(operation, errno, log, insn, message.isEmpty() ? "see the verifier log" : message);
    }

    private static List<Instruction> resolve(ProgramSpec spec, Map<String, BpfMap> maps, String what) {
        List<Instruction> out = new ArrayList<>(spec.instructions().size());
        for (Instruction i : spec.instructions()) {
            if (i.reference() != null && i.opcode() == Opcodes.LD_IMM64) {
                BpfMap m = maps.get(i.reference());
                if (m == null) {
                    throw new InvalidSpecException(what, "instructions",
                            "references map '" + i.reference() + "', which was not given (known: " + maps.keySet() + ")");
                }
                // PSEUDO_MAP_VALUE keeps its value offset in the upper half of the immediate.
                long imm = (i.imm() & 0xffffffff00000000L) | Integer.toUnsignedLong(m.fd().get());
                out.add(i.withImm(imm));
            } else {
                out.add(i);
            }
        }
        return out;
    }

    /** Opens the program pinned at {@code path}. */
    public static BpfProgram openPinned(Path path) {
        return adopt(Pins.open(path, "program"), "pinned program " + path);
    }

    /**
     * Opens the program with kernel id {@code id}. The kernel allows this only with CAP_SYS_ADMIN;
     * to keep a program of one's own, prefer {@link #duplicate()}.
     */
    public static BpfProgram fromId(int id) {
        return adopt(Kernel.fdById(Attr.PROG_GET_FD_BY_ID, id, "program"), "program id " + id);
    }

    /**
     * A second owner of this program: a new descriptor of the same kernel object, closed on its own.
     * Unlike {@link #fromId}, which needs CAP_SYS_ADMIN, this needs no capability.
     */
    public BpfProgram duplicate() {
        int raw = Syscall.dup(fd.get());
        if (raw < 0) {
            throw new BpfException("duplicate the descriptor of program '" + name + "'", -raw,
                    BpfException.defaultHint(-raw));
        }
        return new BpfProgram(Fd.adopt(raw, "program '" + name + "' (id " + id + ")"), type, name, id, verifierLog);
    }

    private static BpfProgram adopt(int raw, String description) {
        Fd fd = Fd.adopt(raw, description);
        try {
            ProgramInfo info = readInfo(fd);
            return new BpfProgram(fd, info.type(), info.name(), info.id(), "");
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static ProgramInfo readInfo(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i = arena.allocate(Attr.ProgInfo.LAYOUT);
            Kernel.info(fd.get(), i, "program");
            int nMaps = i.get(JAVA_INT, Attr.ProgInfo.NR_MAP_IDS);
            List<Integer> mapIds = List.of();
            if (nMaps > 0) {
                // A second call with room for the map ids.
                MemorySegment ids = arena.allocate(JAVA_INT, nMaps);
                i.fill((byte) 0);
                i.set(JAVA_INT, Attr.ProgInfo.NR_MAP_IDS, nMaps);
                i.set(JAVA_LONG, Attr.ProgInfo.MAP_IDS, ids.address());
                Kernel.info(fd.get(), i, "program");
                List<Integer> l = new ArrayList<>();
                for (int k = 0; k < Math.min(nMaps, i.get(JAVA_INT, Attr.ProgInfo.NR_MAP_IDS)); k++) {
                    l.add(ids.getAtIndex(JAVA_INT, k));
                }
                mapIds = List.copyOf(l);
            }
            return new ProgramInfo(ProgramType.of(i.get(JAVA_INT, Attr.ProgInfo.TYPE)), i.get(JAVA_INT, Attr.ProgInfo.ID),
                    Kernel.getName(i, Attr.ProgInfo.NAME, 16),
                    HexFormat.of().formatHex(i.asSlice(Attr.ProgInfo.TAG, 8).toArray(JAVA_BYTE)),
                    i.get(JAVA_INT, Attr.ProgInfo.XLATED_PROG_LEN), i.get(JAVA_INT, Attr.ProgInfo.JITED_PROG_LEN),
                    mapIds, i.get(JAVA_INT, Attr.ProgInfo.BTF_ID), i.get(JAVA_LONG, Attr.ProgInfo.RUN_CNT),
                    i.get(JAVA_LONG, Attr.ProgInfo.RUN_TIME_NS), i.get(JAVA_INT, Attr.ProgInfo.VERIFIED_INSNS));
        }
    }

    /** Fresh information from the kernel. */
    public ProgramInfo info() {
        return readInfo(fd);
    }

    /** The owned descriptor. */
    public Fd fd() {
        return fd;
    }

    /** The program type. */
    public ProgramType type() {
        return type;
    }

    /** The object name. */
    public String name() {
        return name;
    }

    /** The kernel id. */
    public int id() {
        return id;
    }

    /** The verifier log of a successful load with log level above 0; otherwise empty. */
    public String verifierLog() {
        return verifierLog;
    }

    /**
     * Runs the program with BPF_PROG_TEST_RUN.
     *
     * @throws BpfException when the kernel refuses the run (for example, a context of the wrong size)
     */
    public TestRun.Result testRun(TestRun run) {
        boolean live = (run.flags() & TestRun.XDP_LIVE_FRAMES) != 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(Attr.TestRun.LAYOUT);
            byte[] data = run.data();
            int outSize = live || data == null ? 0 : (run.dataOutSize() > 0 ? run.dataOutSize() : data.length + 4096);
            MemorySegment dataIn = data == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_BYTE, data);
            MemorySegment dataOut = outSize == 0 ? MemorySegment.NULL : arena.allocate(outSize);
            byte[] ctx = run.context();
            MemorySegment ctxIn = ctx == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_BYTE, ctx);
            MemorySegment ctxOut = run.contextOutSize() == 0 ? MemorySegment.NULL : arena.allocate(run.contextOutSize());
            attr.set(JAVA_INT, Attr.TestRun.PROG_FD, fd.get());
            attr.set(JAVA_INT, Attr.TestRun.DATA_SIZE_IN, data == null ? 0 : data.length);
            attr.set(JAVA_LONG, Attr.TestRun.DATA_IN, dataIn.address());
            attr.set(JAVA_INT, Attr.TestRun.DATA_SIZE_OUT, outSize);
            attr.set(JAVA_LONG, Attr.TestRun.DATA_OUT, dataOut.address());
            attr.set(JAVA_INT, Attr.TestRun.CTX_SIZE_IN, ctx == null ? 0 : ctx.length);
            attr.set(JAVA_LONG, Attr.TestRun.CTX_IN, ctxIn.address());
            attr.set(JAVA_INT, Attr.TestRun.CTX_SIZE_OUT, run.contextOutSize());
            attr.set(JAVA_LONG, Attr.TestRun.CTX_OUT, ctxOut.address());
            attr.set(JAVA_INT, Attr.TestRun.REPEAT, run.repeat());
            attr.set(JAVA_INT, Attr.TestRun.FLAGS, run.flags());
            attr.set(JAVA_INT, Attr.TestRun.CPU, run.cpu());
            attr.set(JAVA_INT, Attr.TestRun.BATCH_SIZE, run.batchSize());
            long r = Syscall.bpf(Attr.PROG_TEST_RUN, attr, attr.byteSize());
            if (r < 0) {
                int errno = (int) -r;
                if (live) {
                    throw new BpfException("BPF_PROG_TEST_RUN " + name + " with BPF_F_TEST_XDP_LIVE_FRAMES", errno,
                            liveFramesHint(errno));
                }
                String hint = switch (Errno.name(errno)) {
                    case "EINVAL" -> "the kernel refused the input: check the data length (at least 14 bytes for "
                            + "packets), the context size and the flags for " + type.kernelName();
                    case "ENOTSUPP", "ENOTSUP" -> type.kernelName() + " programs cannot be test-run";
                    case "ENOSPC" -> "the packet out is larger than dataOutSize";
                    default -> BpfException.defaultHint(errno);
                };
                throw new BpfException("BPF_PROG_TEST_RUN " + name, errno, hint);
            }
            int outLen = attr.get(JAVA_INT, Attr.TestRun.DATA_SIZE_OUT);
            int ctxLen = attr.get(JAVA_INT, Attr.TestRun.CTX_SIZE_OUT);
            byte[] out = outSize == 0 ? new byte[0] : dataOut.asSlice(0, Math.min(outLen, outSize)).toArray(JAVA_BYTE);
            byte[] ctxBack = run.contextOutSize() == 0 ? null
                    : ctxOut.asSlice(0, Math.min(ctxLen, run.contextOutSize())).toArray(JAVA_BYTE);
            return new TestRun.Result(attr.get(JAVA_INT, Attr.TestRun.RETVAL),
                    Integer.toUnsignedLong(attr.get(JAVA_INT, Attr.TestRun.DURATION)), out, ctxBack);
        }
    }

    /**
     * Why a live-frames test run was refused. Upstream Linux checks no capability for the flag beyond
     * what loading the XDP program took (net/bpf/test_run.c), yet some kernel builds answer EPERM even
     * with every capability: then the hint says so rather than "run as root".
     */
    private String liveFramesHint(int errno) {
        return switch (Errno.name(errno)) {
            case "EPERM" -> {
                Capabilities caps;
                try {
                    caps = Capabilities.current();
                } catch (RuntimeException e) {
                    yield BpfException.defaultHint(errno);
                }
                List<String> lacking = caps.lacking(List.of(Capability.BPF, Capability.NET_ADMIN));
                yield lacking.isEmpty()
                        ? "this kernel refuses live frames although this process has CAP_BPF and CAP_NET_ADMIN, all "
                        + "that upstream Linux asks for (a security policy or this kernel build refuses it); run "
                        + "without XDP_LIVE_FRAMES, or send the frames through a socket"
                        : "live frames need " + String.join(" and ", lacking);
            }
            case "EINVAL" -> "the kernel refused live frames for " + type.kernelName() + ": they need an XDP program, "
                    + "at least 14 bytes of packet data that fit one page beside the kernel's headroom (no jumbo frames), "
                    + "no data or context out, a batch size of at most 256, and kernel 5.18+";
            default -> BpfException.defaultHint(errno);
        };
    }

    /** Pins the program at {@code path} under bpffs. */
    public void pin(Path path) {
        Pins.pin(fd, path, "program '" + name + "'");
    }

    /** Closes the descriptor; attached links keep the program alive in the kernel. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "program '" + name + "' (" + (type == null ? "?" : type.kernelName()) + ") id " + id;
    }
}
