package dev.citadel.services;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** Test doubles shared by the service tests. */
public final class TestSupport {
    private TestSupport() {
    }

    /** A sealer that only marks its output, for tests about something other than sealing (it does not protect anything). */
    public static final class MarkingSealer implements SecretSealer {
        @Override
        public byte[] seal(SecretBytes secret, String context) {
            byte[] prefix = ("sealed:" + context + ":").getBytes(StandardCharsets.UTF_8);
            byte[] value = secret.revealBytes();
            byte[] out = java.util.Arrays.copyOf(prefix, prefix.length + value.length);
            System.arraycopy(value, 0, out, prefix.length, value.length);
            return out;
        }

        @Override
        public SecretBytes unseal(byte[] sealed, String context) {
            byte[] prefix = ("sealed:" + context + ":").getBytes(StandardCharsets.UTF_8);
            if (sealed.length < prefix.length || !java.util.Arrays.equals(sealed, 0, prefix.length, prefix, 0, prefix.length)) {
                throw new IllegalArgumentException("sealed value is invalid");
            }
            return SecretBytes.copyOf(java.util.Arrays.copyOfRange(sealed, prefix.length, sealed.length));
        }
    }

    /** A clock the test moves. */
    public static final class MovableClock extends Clock {
        public Instant now = Instant.parse("2026-11-29T10:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
