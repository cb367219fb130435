package dev.citadel.auth;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fuzz targets for every SigV4 parser of untrusted input. Under {@code mvn test} each runs its
 * regression corpus in {@code src/test/resources/dev/citadel/auth/SigV4FuzzTestInputs/<method>/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-auth -am test -Dtest=SigV4FuzzTest#<method>
 * -Dsurefire.failIfNoSpecifiedTests=false}; keep every crashing input in the corpus. Only
 * {@link AuthException} is an expected outcome.
 */
class SigV4FuzzTest {
    private static final SigV4Verifier VERIFIER = new SigV4Verifier(
            Clock.fixed(Instant.parse("2015-08-30T12:36:00Z"), ZoneOffset.UTC), Duration.ofMinutes(15));
    private static final SecretBytes SECRET = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    @FuzzTest(maxDuration = "60s")
    void authorizationHeader(FuzzedDataProvider data) {
        String header = data.consumeString(4096);
        String date = data.consumeString(64);
        String host = data.consumeRemainingAsString();
        HttpRequestView view = new HttpRequestView("GET", "/", "", Map.of("authorization", List.of(header), "x-amz-date", List.of(date),
                "host", List.of(host)));
        try {
            SigV4Authorization auth = SigV4Parser.parse(view);
            VERIFIER.verify(view, auth, SECRET, Optional.empty(), SigV4.EMPTY_SHA256, false);
        } catch (AuthException expected) {
            // refusals are the expected outcome of nearly every input
        }
    }

    @FuzzTest(maxDuration = "60s")
    void presignedQuery(FuzzedDataProvider data) {
        String path = data.consumeString(256);
        String query = data.consumeRemainingAsString();
        HttpRequestView view = new HttpRequestView("GET", path, query, Map.of("host", List.of("example.amazonaws.com")));
        try {
            SigV4Authorization auth = SigV4Parser.parse(view);
            VERIFIER.verify(view, auth, SECRET, Optional.empty(), SigV4.UNSIGNED_PAYLOAD, data.consumeBoolean());
        } catch (AuthException expected) {
            // refusals are the expected outcome of nearly every input
        }
    }

    @FuzzTest(maxDuration = "60s")
    void canonicalRequest(FuzzedDataProvider data) {
        String path = data.consumeString(512);
        String query = data.consumeString(1024);
        String name = data.consumeString(32);
        String value = data.consumeRemainingAsString();
        HttpRequestView view = new HttpRequestView("PUT", path, query, Map.of("host", List.of("h"), name.isEmpty() ? "x" : name, List.of(value)));
        try {
            CanonicalRequest.build(view, List.of("host"), SigV4.EMPTY_SHA256, true, true);
            CanonicalRequest.build(view, List.of("host"), SigV4.EMPTY_SHA256, false, false);
        } catch (AuthException expected) {
            // a malformed query is refused
        }
    }

    @FuzzTest(maxDuration = "60s")
    void awsChunkedBody(FuzzedDataProvider data) throws IOException {
        AwsChunkedDecoder.Mode mode = data.pickValue(AwsChunkedDecoder.Mode.values());
        String trailer = data.pickValue(new String[] {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
            "x-amz-checksum-sha256"});
        long length = data.consumeLong(0, 1 << 20);
        byte[] body = data.consumeRemainingAsBytes();
        SigV4Authorization auth = new SigV4Authorization(new CredentialScope("AKIDEXAMPLE", "20150830", "us-east-1", "s3"),
                List.of("host"), "a".repeat(64), "20150830T123600Z", Instant.parse("2015-08-30T12:36:00Z"), false, 0, Optional.empty());
        VerifiedSignature seed = new VerifiedSignature(auth, SigV4.signingKey(SECRET.revealBytes(), "20150830", "us-east-1", "s3"));
        try (AwsChunkedDecoder in = new AwsChunkedDecoder(new ByteArrayInputStream(body), mode, Optional.of(seed), Optional.of(trailer), length)) {
            in.readAllBytes();
        } catch (AuthException expected) {
            // malformed and unverifiable bodies are refused
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
