package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.INVALID_SESSION_TOKEN;
import static dev.citadel.auth.AuthException.Kind.PRESIGNED_EXPIRED;
import static dev.citadel.auth.AuthException.Kind.PRESIGNED_NOT_YET_VALID;
import static dev.citadel.auth.AuthException.Kind.REQUEST_TIME_TOO_SKEWED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The verifier's time window and session-token checks, on requests signed by {@link SigV4Signer}. */
class SigV4VerifierTest {
    private static final Instant SIGNED_AT = Instant.parse("2015-08-30T12:36:00Z");
    private static final SecretBytes SECRET = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static final SigV4Signer SIGNER = new SigV4Signer("AKIDEXAMPLE", SECRET, "us-east-1", "sts");
    private static final String TOKEN = "session-token-of-the-temporary-key";
    private static final Duration SKEW = Duration.ofMinutes(15);

    private static HttpRequestView headerSigned(Map<String, String> extra) {
        Map<String, String> headers = new LinkedHashMap<>(extra);
        headers.put("Host", "sts.amazonaws.com");
        Map<String, List<String>> received = new LinkedHashMap<>();
        SIGNER.signHeaders("GET", "/", "Action=GetCallerIdentity", headers, SigV4.EMPTY_SHA256, SIGNED_AT)
                .forEach((k, v) -> received.put(k, List.of(v)));
        return new HttpRequestView("GET", "/", "Action=GetCallerIdentity", received);
    }

    private static HttpRequestView presigned(long expires) {
        String query = SIGNER.presignQuery("GET", "/", "Action=GetCallerIdentity", "sts.amazonaws.com", expires, SIGNED_AT);
        return new HttpRequestView("GET", "/", query, Map.of("host", List.of("sts.amazonaws.com")));
    }

    private static VerifiedSignature verifyAt(Instant now, HttpRequestView view, Optional<SecretBytes> token) {
        return new SigV4Verifier(Clock.fixed(now, ZoneOffset.UTC), SKEW)
                .verify(view, SigV4Parser.parse(view), SECRET, token, SigV4.EMPTY_SHA256, false);
    }

    private static void assertRefused(Instant now, HttpRequestView view, Optional<SecretBytes> token, AuthException.Kind kind) {
        assertThatThrownBy(() -> verifyAt(now, view, token))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    @Test
    void headerSignatureWithinTheSkewIsAccepted() {
        assertThat(verifyAt(SIGNED_AT.plus(SKEW), headerSigned(Map.of()), Optional.empty()).authorization().presigned()).isFalse();
    }

    @Test
    void headerSignatureTwentyMinutesOldIsTooSkewed() {
        assertRefused(SIGNED_AT.plus(Duration.ofMinutes(20)), headerSigned(Map.of()), Optional.empty(), REQUEST_TIME_TOO_SKEWED);
    }

    @Test
    void headerSignatureTwentyMinutesAheadIsTooSkewed() {
        assertRefused(SIGNED_AT.minus(Duration.ofMinutes(20)), headerSigned(Map.of()), Optional.empty(), REQUEST_TIME_TOO_SKEWED);
    }

    @Test
    void presignedRequestAtItsLastSecondIsAccepted() {
        assertThat(verifyAt(SIGNED_AT.plusSeconds(3600), presigned(3600), Optional.empty()).authorization().presigned()).isTrue();
    }

    @Test
    void presignedRequestAfterItsExpiryIsExpired() {
        assertRefused(SIGNED_AT.plusSeconds(3601), presigned(3600), Optional.empty(), PRESIGNED_EXPIRED);
    }

    @Test
    void presignedRequestUsedTwentyMinutesBeforeItsDateIsNotValidYet() {
        assertRefused(SIGNED_AT.minus(Duration.ofMinutes(20)), presigned(3600), Optional.empty(), PRESIGNED_NOT_YET_VALID);
    }

    @Test
    void matchingSessionTokenIsAccepted() {
        HttpRequestView view = headerSigned(Map.of("X-Amz-Security-Token", TOKEN));
        assertThat(verifyAt(SIGNED_AT, view, Optional.of(SecretBytes.ofUtf8(TOKEN))).authorization().securityToken()).contains(TOKEN);
    }

    @Test
    void otherSessionTokenIsInvalid() {
        HttpRequestView view = headerSigned(Map.of("X-Amz-Security-Token", TOKEN + "x"));
        assertRefused(SIGNED_AT, view, Optional.of(SecretBytes.ofUtf8(TOKEN)), INVALID_SESSION_TOKEN);
    }

    @Test
    void missingSessionTokenOfATemporaryKeyIsInvalid() {
        assertRefused(SIGNED_AT, headerSigned(Map.of()), Optional.of(SecretBytes.ofUtf8(TOKEN)), INVALID_SESSION_TOKEN);
    }

    @Test
    void sessionTokenSentWithALongTermKeyIsInvalid() {
        assertRefused(SIGNED_AT, headerSigned(Map.of("X-Amz-Security-Token", TOKEN)), Optional.empty(), INVALID_SESSION_TOKEN);
    }
}
