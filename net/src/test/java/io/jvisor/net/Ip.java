package io.jvisor.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs iproute2's {@code ip} for tests, to cross-check what the library did. Never used by the library. */
public final class Ip {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Ip() {}

    /** {@code ip -n NS -j args...} (or in the root namespace when ns is null), parsed. */
    public static JsonNode json(String ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        if (ns != null) {
            cmd.addAll(List.of("-n", ns));
        }
        cmd.add("-j");
        cmd.addAll(Arrays.asList(args));
        String out = run(cmd).trim();
        try {
            return JSON.readTree(out.isEmpty() ? "[]" : out);
        } catch (IOException e) {
            throw new IllegalStateException("bad JSON from " + cmd + ": " + out, e);
        }
    }

    /** The {@code ip -j -d link show DEV} object of one device. */
    public static JsonNode link(String ns, String dev) {
        JsonNode arr = json(ns, "-d", "link", "show", "dev", dev);
        if (arr.size() != 1) {
            throw new IllegalStateException("no single link " + dev + " in " + ns + ": " + arr);
        }
        return arr.get(0);
    }

    /** Runs {@code ip args...}; fails on a non-zero exit. */
    public static String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(Arrays.asList(args));
        return run(cmd);
    }

    /** Runs a command, returns its output; fails on a non-zero exit. */
    public static String run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out.trim());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + cmd, e);
        }
    }
}
