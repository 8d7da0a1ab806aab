package io.jvisor.modules;

import io.jvisor.bpf.ProgramType;
import io.jvisor.bpf.asm.Helper;
import io.jvisor.bpf.asm.Instruction;
import io.jvisor.bpf.asm.Opcodes;
import io.jvisor.bpf.asm.Register;
import io.jvisor.bpf.elf.CollectionSpec;
import io.jvisor.bpf.elf.ObjectFile;
import io.jvisor.bpf.elf.ObjectProgram;
import io.jvisor.bpf.features.HelperUse;
import io.jvisor.bpf.toolchain.Clang;
import io.jvisor.engine.Engine;
import io.jvisor.engine.ModuleCode;
import io.jvisor.engine.ModuleType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link HelperUse#JVISOR}, the helpers {@code jvisor features} probes for each of jvisor's programs,
 * is what the compiled C calls: every standard module and the engine's entry program are compiled,
 * and the helper calls of their tc and XDP programs are read from the instructions. A change to a
 * module or to the SDK that calls another helper fails here until the table says so. Needs clang,
 * not root.
 */
class HelperUseTest {
    @Test
    void theProbedHelpersAreThoseTheCompiledProgramsCall() throws Exception {
        Clang clang = Clang.find();
        Map<String, ModuleCode> programs = new HashMap<>();
        programs.put("entry", ModuleCode.resource(Engine.class, "entry.c"));
        for (ModuleType t : ServiceLoader.load(ModuleType.class)) {
            if (t instanceof StandardModule) {
                programs.put(t.name(), t.code());
            }
        }
        assertThat(programs).containsKeys("bridge", "capture", "ddos", "firewall", "lb", "nat", "router");

        Map<String, Set<Helper>> table = new HashMap<>();
        for (HelperUse use : HelperUse.JVISOR) {
            table.put(use.program() + "." + use.hook(), EnumSet.copyOf(use.helpers()));
        }
        // what the objects call, per program and hook (the entry object has two tc programs: entry and reinject)
        Map<String, Set<Helper>> compiled = new HashMap<>();
        for (var e : programs.entrySet()) {
            ModuleCode code = e.getValue();
            CollectionSpec spec = ObjectFile.read(clang.compileString(code.source(), code.fileName(), List.of()).object());
            for (ObjectProgram p : spec.programs()) {
                ProgramType type = p.spec().type();
                if (type != ProgramType.SCHED_CLS && type != ProgramType.XDP) {
                    continue;
                }
                String key = e.getKey() + "." + (type == ProgramType.XDP ? "xdp" : "tc");
                compiled.computeIfAbsent(key, k -> EnumSet.noneOf(Helper.class))
                        .addAll(helperCalls(p.spec().instructions()));
            }
        }
        // the entry program's metadata helper is its own row (xdp.metadata), with a fallback
        compiled.values().forEach(calls -> calls.remove(Helper.XDP_ADJUST_META));
        List<String> wrong = new ArrayList<>();
        for (var e : compiled.entrySet()) {
            Set<Helper> calls = e.getValue();
            Set<Helper> listed = table.getOrDefault(e.getKey(), EnumSet.noneOf(Helper.class));
            if (!calls.equals(listed)) {
                Set<Helper> missing = EnumSet.copyOf(calls);
                missing.removeAll(listed);
                Set<Helper> extra = EnumSet.copyOf(listed);
                extra.removeAll(calls);
                wrong.add(e.getKey() + ": HelperUse.JVISOR lacks " + missing + " and lists " + extra
                        + " it does not call");
            }
        }
        assertThat(wrong).as("update io.jvisor.bpf.features.HelperUse.JVISOR").isEmpty();
        assertThat(compiled.keySet()).as("every row of the table is a compiled program").containsAll(table.keySet());
    }

    private static Set<Helper> helperCalls(List<Instruction> insns) {
        Set<Helper> out = EnumSet.noneOf(Helper.class);
        for (Instruction i : insns) {
            // a helper call has src 0; 1 is a call to a local function, 2 a kfunc
            if (i.opcode() == (Opcodes.JMP | Opcodes.CALL) && i.src() == Register.R0) {
                Helper h = Helper.of((int) i.imm());
                assertThat(h).as("helper #" + i.imm()).isNotNull();
                out.add(h);
            }
        }
        return out;
    }
}
