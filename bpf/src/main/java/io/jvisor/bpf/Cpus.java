package io.jvisor.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU facts the bpf layer needs: per-CPU map values hold one slot per <em>possible</em> CPU. */
public final class Cpus {
    private Cpus() {}

    private static volatile int possible;

    /** The number of possible CPUs, from {@code /sys/devices/system/cpu/possible}. */
    public static int possible() {
        int p = possible;
        if (p == 0) {
            try {
                p = parseCpuList(Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read /sys/devices/system/cpu/possible", e);
            }
            possible = p;
        }
        return p;
    }

    /** Counts a kernel CPU list such as {@code 0-3,8-11}: the highest CPU number plus one. */
    static int parseCpuList(String list) {
        int max = -1;
        for (String part : list.split(",")) {
            String[] range = part.split("-");
            max = Math.max(max, Integer.parseInt(range[range.length - 1].trim()));
        }
        return max + 1;
    }
}
