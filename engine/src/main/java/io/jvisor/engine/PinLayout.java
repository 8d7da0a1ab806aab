package io.jvisor.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where an engine's kernel objects are pinned, under {@code bpffs/jvisor/NAME}:
 * <pre>
 *   maps/NAME            the framework's shared maps (jv_patch_tc, jv_ports, ...)
 *   inst/INSTANCE/prog   an instance's program
 *   inst/INSTANCE/map_M  its own maps ('.' in M becomes '_': bpffs refuses dots)
 *   dev/NETNS_DEVICE/    a device's entry program (prog) and, for bpf links, the link
 *   reinject/            the user-space reinjection program and its link
 * </pre>
 */
record PinLayout(Path root) {
    Path maps() {
        return root.resolve("maps");
    }

    Path instances() {
        return root.resolve("inst");
    }

    Path instance(String name) {
        return instances().resolve(name);
    }

    Path devices() {
        return root.resolve("dev");
    }

    Path device(Endpoint.Device d) {
        return devices().resolve((d.netns() == null ? "-" : d.netns()) + "_" + d.name());
    }

    Path reinject() {
        return root.resolve("reinject");
    }

    /** The pin file name of an instance map. */
    static String mapFile(String map) {
        return "map_" + map.replace('.', '_');
    }

    /** Creates the directories every engine needs. */
    void prepare() throws IOException {
        Files.createDirectories(maps());
        Files.createDirectories(instances());
        Files.createDirectories(devices());
    }

    /** Removes dir and everything under it; nothing happens when it does not exist. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }
}
