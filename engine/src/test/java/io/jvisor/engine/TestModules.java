package io.jvisor.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The modules the engine tests use, given as C source at run time. */
final class TestModules {
    private TestModules() {}

    static String source(String file) {
        try (InputStream in = TestModules.class.getResourceAsStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModuleCatalog catalog() {
        ModuleCatalog c = new ModuleCatalog();
        c.register(ModuleType.fromSource("forwarder", source("forwarder.c"), 2));
        c.register(ModuleType.fromSource("counter", source("counter.c"), 2));
        c.register(ModuleType.fromSource("hub", source("hub.c"), 8));
        c.register(ModuleType.fromSource("unchecked", source("unchecked.c"), 2));
        return c;
    }
}
