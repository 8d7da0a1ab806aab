package io.jvisor.cli;

import io.jvisor.bpf.features.Features;
import io.jvisor.bpf.features.InsufficientPrivilegeException;
import io.jvisor.bpf.features.Requirement;
import io.jvisor.bpf.features.Support;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jvisor features}: what this kernel supports, like {@code bpftool feature probe}, and what
 * jvisor relies on, with each refusal's errno, what it wants and jvisor's fallback. One refused
 * feature is an answer, not a failure: the command exits 0 unless bpf() is unusable altogether.
 */
@Command(name = "features",
        description = {"Probe what this kernel supports: the effective capabilities, what jvisor needs (with "
                + "what each refusal wants and the fallback), program, map and attach types, and helpers.",
                "Exits 0 whatever the kernel refuses; 77 when this process may not use bpf() at all."},
        footer = {"", "Examples:", "  sudo jvisor features", "  sudo jvisor features --helpers",
                "  sudo jvisor features -o json | jq '.jvisor[] | select(.supported | not)'"})
public final class FeaturesCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--helpers", description = "Also probe every helper for each networking program type.")
    boolean helpers;

    @CommandLine.Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json or yaml (default: ${DEFAULT-VALUE}).")
    Output output;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        Features f;
        try {
            f = Features.probe(helpers);
        } catch (InsufficientPrivilegeException e) {
            spec.commandLine().getErr().println("jvisor: " + e.getMessage());
            return Exit.NO_PERMISSION;
        }
        if (output == Output.TABLE) {
            out.print(f.render());
            out.flush();
        } else {
            output.print(out, tree(f));
        }
        return Exit.OK;
    }

    /** The probe as plain maps and lists, keyed by the kernel's names, for JSON and YAML. */
    static Map<String, Object> tree(Features f) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("kernel", f.kernel().release());
        Map<String, Object> caps = new LinkedHashMap<>();
        caps.put("effective", f.capabilities().hex());
        caps.put("lastCap", f.capabilities().lastCap());
        caps.put("missing", f.capabilities().missing());
        caps.put("present", f.capabilities().present().stream().map(c -> c.capName()).toList());
        root.put("capabilities", caps);
        root.put("jvisor", f.requirements().stream().map(FeaturesCommand::requirement).toList());
        Map<String, Object> progs = new LinkedHashMap<>();
        f.programTypes().forEach((t, s) -> progs.put(t.kernelName(), support(s)));
        root.put("programTypes", progs);
        Map<String, Object> maps = new LinkedHashMap<>();
        f.mapTypes().forEach((t, s) -> maps.put(t.kernelName(), support(s)));
        root.put("mapTypes", maps);
        Map<String, Object> attach = new LinkedHashMap<>();
        f.attachTypes().forEach((t, s) -> attach.put(t.kernelName(), support(s)));
        root.put("linkAttachTypes", attach);
        if (!f.helpers().isEmpty()) {
            Map<String, Object> helpers = new LinkedHashMap<>();
            f.helpers().forEach((t, m) -> {
                Map<String, Object> byHelper = new LinkedHashMap<>();
                m.forEach((h, s) -> byHelper.put(h.cName(), s.supported()));
                helpers.put(t.kernelName(), byHelper);
            });
            root.put("helpers", helpers);
        }
        return root;
    }

    private static Map<String, Object> requirement(Requirement r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", r.key());
        m.put("feature", r.feature());
        m.put("usedBy", r.usedBy());
        m.putAll(support(r.support()));
        m.put("fallback", r.fallback());
        return m;
    }

    private static Map<String, Object> support(Support s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("supported", s.supported());
        if (!s.probed()) {
            m.put("probed", false);
        }
        if (!s.supported()) {
            m.put("errno", s.errno() == 0 ? null : io.jvisor.bpf.Errno.name(s.errno()));
            m.put("detail", s.detail());
            m.put("hint", s.hint());
        }
        return m;
    }
}
