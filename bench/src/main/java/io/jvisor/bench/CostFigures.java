package io.jvisor.bench;

import java.util.Locale;
import java.util.Map;

/**
 * BPF_PROG_TEST_RUN figures of a cost benchmark: ns per run of each subject, one per round, and
 * what its report computes from them within each round. {@code c_nop}, in the benchmarks that have
 * it, is the test-run harness's own cost.
 */
interface CostFigures {
    /** ns per run, per subject, one per round. */
    Map<String, double[]> ns();

    /** The subject's median over the rounds. */
    default double median(String subject) {
        return EngineBenchSupport.median(ns().get(subject));
    }

    /** a/b within each round. */
    default double[] ratios(String a, String b) {
        return EngineBenchSupport.ratios(ns().get(a), ns().get(b));
    }

    /** ns minus the harness's own cost (c_nop) within each round. */
    default double[] net(String subject) {
        double[] x = ns().get(subject);
        double[] nop = ns().get("c_nop");
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - nop[i];
        }
        return out;
    }

    /** (a - c_nop) / (b - c_nop) within each round: the ratio without the test-run loop's own cost. */
    default double[] netRatios(String a, String b) {
        return EngineBenchSupport.ratios(net(a), net(b));
    }

    /**
     * A cost table's row for {@code subject}: its label, median ns, p25-p75, the median ratio to
     * {@code base} (bold) and its p25-p75 with {@code ratioDigits} decimals, the median net ns and the
     * median net ratio to {@code base} (NaN for c_nop itself).
     */
    default String costRow(String label, String subject, String base, int ratioDigits) {
        double[] q = EngineBenchSupport.quartiles(ns().get(subject));
        double[] ratio = ratios(subject, base);
        double[] rq = EngineBenchSupport.quartiles(ratio);
        String r = "%." + ratioDigits + "f";
        return String.format(Locale.ROOT, "| %s | %.1f | %.0f-%.0f | **" + r + "** | " + r + "-" + r + " | %.1f | %.2f |",
                label, median(subject), q[0], q[1], EngineBenchSupport.median(ratio), rq[0], rq[1],
                EngineBenchSupport.median(net(subject)),
                subject.equals("c_nop") ? Double.NaN : EngineBenchSupport.median(netRatios(subject, base)));
    }
}
