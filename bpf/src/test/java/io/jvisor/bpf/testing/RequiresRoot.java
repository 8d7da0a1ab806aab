package io.jvisor.bpf.testing;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that needs root (bpf(), namespaces, devices). Outside CI a non-root run skips
 * it with one clear message; under CI=true it fails instead, because a skipped test proves nothing.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(RootCondition.class)
public @interface RequiresRoot {}
