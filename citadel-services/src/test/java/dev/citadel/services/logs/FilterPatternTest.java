package dev.citadel.services.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.AwsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** CloudWatch's unstructured filter pattern syntax: terms, phrases, ?terms, -terms, case-sensitive. */
class FilterPatternTest {
    private static boolean matches(String pattern, String message) {
        return FilterPattern.parse(pattern).matches(message);
    }

    @Test
    void anEmptyPatternMatchesEverything() {
        assertThat(matches("", "anything")).isTrue();
        assertThat(matches("   ", "")).isTrue();
        assertThat(FilterPattern.parse("").matchesAll()).isTrue();
    }

    @Test
    void everyTermIsRequiredAndMatchingIsCaseSensitive() {
        assertThat(matches("ERROR timeout", "ERROR: read timeout after 3s")).isTrue();
        assertThat(matches("ERROR timeout", "ERROR: read failed")).isFalse();
        assertThat(matches("ERROR", "error: lower case")).isFalse();
    }

    @Test
    void aQuotedPhraseMatchesWithItsSpacesAndPunctuation() {
        assertThat(matches("\"disk full\"", "Exception: disk full on /opt/ml")).isTrue();
        assertThat(matches("\"disk full\"", "disk is full")).isFalse();
        assertThat(matches("\"say \\\"hi\\\"\"", "they say \"hi\" twice")).isTrue();
        assertThat(matches("\"[epoch 3]\" loss", "[epoch 3] loss=0.25")).isTrue();
    }

    @Test
    void questionMarkTermsNeedAnyOne() {
        assertThat(matches("?ERROR ?WARN", "WARN low memory")).isTrue();
        assertThat(matches("?ERROR ?WARN", "ERROR out of memory")).isTrue();
        assertThat(matches("?ERROR ?WARN", "INFO fine")).isFalse();
        assertThat(matches("epoch ?ERROR ?WARN", "WARN something")).as("the plain term is still required").isFalse();
    }

    @Test
    void minusTermsExclude() {
        assertThat(matches("ERROR -Retrying", "ERROR connection reset")).isTrue();
        assertThat(matches("ERROR -Retrying", "ERROR connection reset; Retrying")).isFalse();
        assertThat(matches("-\"debug line\"", "a debug line here")).isFalse();
        assertThat(matches("-debug", "info")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"{ $.level = \"ERROR\" }", "[ip, user, ...]", "%ERR.*%"})
    void structuredAndRegexPatternsAreNotSupported(String pattern) {
        assertThatThrownBy(() -> FilterPattern.parse(pattern)).isInstanceOfSatisfying(AwsException.class, e -> {
            assertThat(e.code()).isEqualTo("InvalidParameterException");
            assertThat(e.getMessage()).contains("not supported");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"unclosed", "a\"b", "? x", "-", "\"\"", "\"a\"b"})
    void malformedPatternsAreRefused(String pattern) {
        assertThatThrownBy(() -> FilterPattern.parse(pattern)).isInstanceOfSatisfying(AwsException.class,
                e -> assertThat(e.code()).isEqualTo("InvalidParameterException"));
    }

    @Test
    void aPatternLongerThanCloudWatchAllowsIsRefused() {
        assertThatThrownBy(() -> FilterPattern.parse("a".repeat(1025))).isInstanceOf(AwsException.class);
        assertThat(FilterPattern.parse("a".repeat(1024)).matches("a".repeat(1024))).isTrue();
    }
}
