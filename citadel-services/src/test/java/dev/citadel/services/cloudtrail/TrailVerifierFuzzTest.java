package dev.citadel.services.cloudtrail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Fuzz target for what `citadel audit verify` reads from a trail's bucket, which the bucket's
 * owner can overwrite with anything: a digest file's bytes (raw, or gzipped so that the JSON
 * checks are reached) and its signature metadata. Every input gets a verdict and nothing is
 * thrown; none is ever "valid", since no input can carry a signature by the key's private half.
 * Corpus: {@code src/test/resources/dev/citadel/services/cloudtrail/TrailVerifierFuzzTestInputs/digest/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=TrailVerifierFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class TrailVerifierFuzzTest {
    /** A 2048-bit PKCS#1 public key (the first sample of AWS's custom-validation page). */
    private static final byte[] KEY = Base64.getDecoder().decode("MIIBCgKCAQEAn11L2YZ9h7onug2ILi1MWyHiMRsTQjfWE+pHVRLk1QjfWhirG+lpOa8NrwQ/r7Ah"
            + "5bNL6HepznOU9XTDSfmmnP97mqyc7z/upfZdS/AHhYcGaz7n6Wc/RRBU/VWGVyUYAYvKR0n6hc6JK7mu7DNW5XWRMZx9R24I/8zHSHbu/AsJ+Q7sSqm2WDHwDvN"
            + "7uE5SJDDgqfuvxVl+Q8yjmZpjVSKVHP3ZNNgtzr1ql/1HZbxAYh0CUTY8fJV0sWLLEUUGI/j6Y4A2iVB/HPu6dqLfV9y4GqtUbaRTW+4mxIp+FQQdGTzuFQa/4"
            + "Lw5qsRuQ2zSlmXEtrSQ0vPGtVUmMcqGWnZOrwIDAQAB");

    @FuzzTest(maxDuration = "20s")
    void digest(FuzzedDataProvider data) {
        boolean gzipped = data.consumeBoolean();
        boolean signed = data.consumeBoolean();
        String signature = data.consumeString(600);
        byte[] body = data.consumeRemainingAsBytes();
        Map<String, String> metadata = signed ? Map.of("signature", signature, "signature-algorithm", "SHA256withRSA") : Map.of();
        TrailVerifier.Checked c = TrailVerifier.checkDigest("trail-bucket", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/"
                + "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261130T010000Z.json.gz", gzipped ? gzip(body) : body, metadata,
                fingerprint -> KEY);
        if (c.status().equals("valid") || !c.status().startsWith("INVALID: ") || c.digest() != null) {
            throw new AssertionError("an unsigned input got " + c.status());
        }
    }

    private static byte[] gzip(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
