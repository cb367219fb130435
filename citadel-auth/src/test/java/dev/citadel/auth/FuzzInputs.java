package dev.citadel.auth;

import dev.citadel.core.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;

/**
 * What the fuzz targets share: the fixed key and clock of the SigV4 test suite (so that a seed
 * copied from it verifies), and the split of an input into LF-separated fields.
 */
final class FuzzInputs {
    static final Instant NOW = Instant.parse("2015-08-30T12:36:00Z");
    static final SecretBytes SECRET = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    static final SigV4Verifier VERIFIER = new SigV4Verifier(Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(15));

    private FuzzInputs() {
    }

    /** The input as UTF-8 cut at its first {@code count - 1} line feeds; missing fields are empty. */
    static String[] fields(byte[] input, int count) {
        String[] parts = new String(input, StandardCharsets.UTF_8).split("\n", count);
        String[] out = Arrays.copyOf(parts, count);
        Arrays.fill(out, parts.length, count, "");
        return out;
    }
}
