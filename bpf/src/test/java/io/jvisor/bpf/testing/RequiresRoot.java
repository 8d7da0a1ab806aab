package io.jvisor.bpf.testing;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class or method that needs root (bpf(), namespaces, devices). Without root it fails
 * with one clear message: a skipped test proves nothing. Everything else (parsing, planning,
 * models) carries no mark and runs as any user; such a user runs those alone by leaving out the
 * tag {@value #TAG}: {@code ./mvnw -B verify -DexcludedGroups=root}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Tag(RequiresRoot.TAG)
@ExtendWith(RootCondition.class)
public @interface RequiresRoot {
    /** The JUnit tag of the tests that need root. */
    String TAG = "root";
}
