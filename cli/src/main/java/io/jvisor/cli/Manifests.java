package io.jvisor.cli;

import io.jvisor.server.manifest.Manifest;
import io.jvisor.server.manifest.ManifestException;
import io.jvisor.server.manifest.ManifestProblem;
import io.jvisor.server.manifest.ManifestReader;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading manifest files and reporting their faults. */
final class Manifests {
    private Manifests() {}

    /** Thrown after the problem was printed: the command ends with {@link #exit}. */
    static final class Reported extends RuntimeException {
        final int exit;

        Reported(int exit) {
            super(null, null, false, false);
            this.exit = exit;
        }
    }

    /** The quickstart topology embedded in the jar (examples/quickstart.yaml at build time). */
    static Manifest quickstart() {
        try (var in = Manifests.class.getResourceAsStream("examples/quickstart.yaml")) {
            if (in == null) {
                throw new IllegalStateException("the embedded quickstart topology is missing from the jar");
            }
            return ManifestReader.read(in.readAllBytes());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads {@code file} ("-" is standard input), printing what is wrong with it. */
    static Manifest read(Path file, PrintWriter err) {
        byte[] bytes;
        try {
            if (file.toString().equals("-")) {
                bytes = System.in.readNBytes(ManifestReader.MAX_BYTES + 1);
            } else {
                if (Files.isDirectory(file)) {
                    err.println("jvisor: " + file + ": is a directory, not a topology file");
                    throw new Reported(Exit.DATA);
                }
                if (Files.size(file) > ManifestReader.MAX_BYTES) {
                    err.println("jvisor: " + file + ": larger than " + ManifestReader.MAX_BYTES + " bytes");
                    throw new Reported(Exit.DATA);
                }
                bytes = Files.readAllBytes(file);
            }
        } catch (NoSuchFileException e) {
            err.println("jvisor: " + file + ": no such file");
            throw new Reported(Exit.NO_INPUT);
        } catch (IOException e) {
            err.println("jvisor: " + file + ": cannot read: " + e.getMessage());
            throw new Reported(Exit.NO_INPUT);
        }
        try {
            return ManifestReader.read(bytes);
        } catch (ManifestException e) {
            throw report(file.toString(), e, err);
        }
    }

    /** Prints the problems of {@code e} and returns the exception that ends the command. */
    static Reported report(String source, ManifestException e, PrintWriter err) {
        err.println("jvisor: " + source + ": " + e.problems().size() + " problem"
                + (e.problems().size() == 1 ? "" : "s") + ":");
        for (ManifestProblem p : e.problems()) {
            err.println("  " + p);
        }
        err.flush();
        return new Reported(Exit.DATA);
    }
}
