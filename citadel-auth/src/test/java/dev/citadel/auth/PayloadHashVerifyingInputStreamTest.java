package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class PayloadHashVerifyingInputStreamTest {
    private static final byte[] BODY = "Param1=value1".getBytes(StandardCharsets.US_ASCII);
    private static final String BODY_SHA256 = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";

    private static InputStream stream(byte[] body, String claimed) {
        return new PayloadHashVerifyingInputStream(new ByteArrayInputStream(body), claimed);
    }

    private static void assertMismatch(ThrowingRead read) {
        assertThatThrownBy(read::run)
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.PAYLOAD_HASH_MISMATCH));
    }

    private interface ThrowingRead {
        void run() throws IOException;
    }

    @Test
    void bodyWithTheClaimedHashIsPassedThrough() throws IOException {
        try (InputStream in = stream(BODY, BODY_SHA256)) {
            assertThat(in.readAllBytes()).isEqualTo(BODY);
        }
    }

    @Test
    void claimedHashInUpperCaseIsAccepted() throws IOException {
        try (InputStream in = stream(BODY, BODY_SHA256.toUpperCase(Locale.ROOT))) {
            assertThat(in.readAllBytes()).isEqualTo(BODY);
        }
    }

    @Test
    void emptyBodyMatchesTheHashOfNothing() throws IOException {
        try (InputStream in = stream(new byte[0], SigV4.EMPTY_SHA256)) {
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void changedBodyFailsAtItsEnd() throws IOException {
        byte[] changed = BODY.clone();
        changed[0] ^= 1;
        try (InputStream in = stream(changed, BODY_SHA256)) {
            byte[] buffer = new byte[changed.length];
            assertThat(in.readNBytes(buffer, 0, changed.length)).isEqualTo(changed.length);
            assertMismatch(in::read);
        }
    }

    @Test
    void readAfterAMismatchFailsAgain() throws IOException {
        try (InputStream in = stream(new byte[] {1}, BODY_SHA256)) {
            assertMismatch(in::readAllBytes);
            assertMismatch(in::read);
        }
    }

    @Test
    void skippedBytesAreHashed() throws IOException {
        try (InputStream in = stream(BODY, BODY_SHA256)) {
            assertThat(in.skip(5)).isEqualTo(5);
            assertThat(in.readAllBytes()).hasSize(BODY.length - 5);
        }
        try (InputStream in = stream(BODY, SigV4.EMPTY_SHA256)) {
            in.skip(BODY.length);
            assertMismatch(in::read);
        }
    }

    @Test
    void markIsNotOffered() throws IOException {
        try (InputStream in = stream(BODY, BODY_SHA256)) {
            assertThat(in.markSupported()).isFalse();
        }
    }

    @Test
    void claimThatIsNotHexIsRefused() {
        assertMismatch(() -> stream(BODY, "z".repeat(64)));
    }

    @Test
    void claimOfTheWrongLengthIsRefused() {
        assertMismatch(() -> stream(BODY, BODY_SHA256.substring(1)));
    }
}
