package io.jvisor.server;

import io.jvisor.bpf.features.Capabilities;
import io.jvisor.bpf.features.Capability;
import io.jvisor.bpf.features.MissingCapabilityException;
import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestProblem;

import java.util.ArrayList;
import java.util.List;

import static io.jvisor.bpf.features.Capability.BPF;
import static io.jvisor.bpf.features.Capability.DAC_OVERRIDE;
import static io.jvisor.bpf.features.Capability.NET_ADMIN;
import static io.jvisor.bpf.features.Capability.NET_RAW;
import static io.jvisor.bpf.features.Capability.PERFMON;
import static io.jvisor.bpf.features.Capability.SYS_ADMIN;

/**
 * The capabilities jvisord needs, found by running it with fewer (docs/server.md, "Least privilege"),
 * and checked when it starts and before it makes namespaces, so that a daemon short of one says
 * which, instead of failing later at some EPERM.
 */
public final class DaemonCapabilities {
    private DaemonCapabilities() {}

    /**
     * To run the engine on existing devices. CAP_BPF: maps and programs. CAP_NET_ADMIN: networking
     * programs, tcx and XDP attachments, rtnetlink. CAP_PERFMON: the verifier refuses the modules'
     * pointer comparisons without it ("R6 pointer comparison prohibited"). CAP_NET_RAW: the packet
     * socket through which control planes transmit (a router's ARP and ICMP answers).
     */
    public static final List<Capability> ENGINE = List.of(BPF, NET_ADMIN, PERFMON, NET_RAW);

    /**
     * Also, for lab hosts and devices in named namespaces: creating, entering and mounting network
     * namespaces (unshare, setns, mounts under /run/netns) needs CAP_SYS_ADMIN. A daemon whose uid
     * is not 0 also needs CAP_DAC_OVERRIDE to write in /run/netns, which root owns.
     */
    public static final List<Capability> NAMESPACES = List.of(SYS_ADMIN);

    /** How to grant them. */
    static final String HINT = "Run it as root, or grant them (systemd: AmbientCapabilities=CAP_BPF CAP_NET_ADMIN "
            + "CAP_PERFMON CAP_NET_RAW; see docs/server.md, \"Least privilege\")";

    /**
     * Checks that {@code caps} allow running the engine.
     *
     * @throws MissingCapabilityException naming each missing capability
     */
    public static void requireEngine(Capabilities caps) {
        List<Capability> missing = caps.missing(ENGINE);
        if (!missing.isEmpty()) {
            throw new MissingCapabilityException("jvisord", ENGINE, missing, caps, HINT);
        }
    }

    /**
     * The problems of applying {@code m} with capability set {@code caps} and uid {@code uid}: lab hosts
     * (when {@code newLab}, the lab is to be created) and attachments to devices in named namespaces,
     * each naming its field and the capability it lacks. Empty when nothing is missing.
     */
    static List<ManifestProblem> namespaceProblems(Manifest m, Capabilities caps, long uid, boolean newLab) {
        List<ManifestProblem> out = new ArrayList<>();
        List<Capability> forHosts = new ArrayList<>(caps.missing(NAMESPACES));
        if (uid != 0 && !caps.has(DAC_OVERRIDE)) {
            forHosts.add(DAC_OVERRIDE);
        }
        if (newLab && !m.spec().hosts().isEmpty() && !forHosts.isEmpty()) {
            out.add(new ManifestProblem("spec.hosts", null, "lab hosts are network namespaces; creating them needs "
                    + names(forHosts) + ", which this daemon lacks (effective: " + caps.describe()
                    + (uid != 0 ? ", uid " + uid : "") + "); attach to existing devices instead, or see "
                    + "docs/server.md, \"Least privilege\""));
        }
        List<Capability> forNetns = caps.missing(NAMESPACES);
        if (!forNetns.isEmpty()) {
            List<Manifest.Attachment> as = m.spec().attachments();
            for (int i = 0; i < as.size(); i++) {
                String ns = as.get(i).netns();
                if (ns != null && !ns.isEmpty()) {
                    out.add(new ManifestProblem("spec.attachments[" + i + "].netns", ns, "entering another "
                            + "network namespace needs " + names(forNetns) + ", which this daemon lacks (effective: "
                            + caps.describe() + ")"));
                }
            }
        }
        return out;
    }

    private static String names(List<Capability> caps) {
        return String.join(" and ", caps.stream().map(Capability::capName).toList());
    }
}
