package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Canonical URI and query rules beyond what the SigV4 test suite covers. */
class CanonicalRequestTest {
    @ParameterizedTest
    @CsvSource({
        "/a/b/../c, /a/c",
        "/a/./b/., /a/b/",
        "/a/b/.., /a/",
        "/.., /",
        "//a//b//, /a/b/",
        "/a/.../b, /a/.../b",
        "'', /"
    })
    void normalizedPathHasNoDotSegmentsOrEmptySegments(String raw, String canonical) {
        assertThat(CanonicalRequest.canonicalUri(raw, true, false)).isEqualTo(canonical);
    }

    @Test
    void unnormalizedPathKeepsItsDotSegments() {
        assertThat(CanonicalRequest.canonicalUri("/a/./b/../c", false, true)).isEqualTo("/a/./b/../c");
    }

    @Test
    void encodedPathEncodesItsEscapesAgain() {
        assertThat(CanonicalRequest.canonicalUri("/example%20space/", true, true)).isEqualTo("/example%2520space/");
    }

    @Test
    void s3PathIsUsedAsSent() {
        assertThat(CanonicalRequest.canonicalUri("/bucket/a/../b%20c", false, false)).isEqualTo("/bucket/a/../b%20c");
    }

    @Test
    void queryEscapesAreWrittenInUpperCase() {
        assertThat(CanonicalRequest.canonicalQuery("k=%e1%88%b4", false)).isEqualTo("k=%E1%88%B4");
    }

    @Test
    void queryBytesThatAreNotUtf8KeepTheirValue() {
        assertThat(CanonicalRequest.canonicalQuery("k=%FF%C3%28", false)).isEqualTo("k=%FF%C3%28");
    }

    @Test
    void queryEscapeWithANonAsciiDigitIsRefused() {
        assertThatThrownBy(() -> CanonicalRequest.canonicalQuery("k=%\u0664\u0664", false))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.INCOMPLETE_SIGNATURE));
    }

    @Test
    void queryParametersAreSortedByNameThenValue() {
        assertThat(CanonicalRequest.canonicalQuery("b=2&a=2&a=1&c", false)).isEqualTo("a=1&a=2&b=2&c=");
    }

    @Test
    void presignedSignatureIsLeftOutOfTheQuery() {
        assertThat(CanonicalRequest.canonicalQuery("a=1&X-Amz-Signature=abc", false)).isEqualTo("a=1");
    }

    @Test
    void signedHeaderMissingFromTheRequestIsAMismatch() {
        HttpRequestView view = new HttpRequestView("GET", "/", "", Map.of("host", List.of("h")));
        assertThatThrownBy(() -> CanonicalRequest.build(view, List.of("host", "x-amz-date"), SigV4.EMPTY_SHA256, true, true))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.SIGNATURE_MISMATCH));
    }
}
