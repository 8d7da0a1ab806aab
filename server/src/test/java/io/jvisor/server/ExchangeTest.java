package io.jvisor.server;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The query parameters and content negotiation every route shares, without root and without a server. */
class ExchangeTest {
    @Test
    void dryRunIsAFlag() {
        assertThat(Exchange.dryRun((String) null)).isFalse();
        assertThat(Exchange.dryRun("false")).isFalse();
        assertThat(Exchange.dryRun("")).isTrue();
        assertThat(Exchange.dryRun("true")).isTrue();
        ApiException e = catchThrowableOfType(ApiException.class, () -> Exchange.dryRun("yes"));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.problems().getFirst().field()).isEqualTo("dryRun");
    }

    @Test
    void wholeNumbersAreNonNegativeInts() {
        assertThat(Exchange.wholeNumber("count", null, 7)).isEqualTo(7);
        assertThat(Exchange.wholeNumber("count", "", 7)).isEqualTo(7);
        assertThat(Exchange.wholeNumber("count", "0", 7)).isZero();
        assertThat(Exchange.wholeNumber("count", Integer.toString(Integer.MAX_VALUE), 7)).isEqualTo(Integer.MAX_VALUE);
        assertThat(reason(() -> Exchange.wholeNumber("count", "-1", 7))).startsWith("out of range");
        assertThat(reason(() -> Exchange.wholeNumber("count", "2147483648", 7))).startsWith("out of range");
        assertThat(reason(() -> Exchange.wholeNumber("count", "many", 7))).isEqualTo("not a whole number");
    }

    @Test
    void theLimitIsAnyIntTheTablesThenJudge() {
        assertThat(Exchange.limit((String) null)).isEqualTo(Exchange.DEFAULT_LIMIT);
        assertThat(Exchange.limit("0")).isZero();
        assertThat(reason(() -> Exchange.limit("lots"))).isEqualTo("not a whole number");
    }

    @Test
    void yamlIsSentOnlyWhenAcceptNamesIt() {
        assertThat(Exchange.wantsYaml(null)).isFalse();
        assertThat(Exchange.wantsYaml("application/json")).isFalse();
        assertThat(Exchange.wantsYaml("*/*")).isFalse();
        assertThat(Exchange.wantsYaml("application/yaml")).isTrue();
        assertThat(Exchange.wantsYaml("text/x-yaml;q=0.9, application/json;q=0.5")).isTrue();
    }

    private static String reason(Runnable r) {
        ApiException e = catchThrowableOfType(ApiException.class, r::run);
        assertThat(e.status()).isEqualTo(400);
        return e.problems().getFirst().reason();
    }
}
