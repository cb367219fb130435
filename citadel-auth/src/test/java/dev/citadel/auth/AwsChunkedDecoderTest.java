package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** aws-chunked bodies: the S3 reference vectors, every shape and checksum, and every way to break one. */
class AwsChunkedDecoderTest {
    private static JsonNode vectors;
    private static VerifiedSignature seed;

    @BeforeAll
    static void load() throws IOException {
        vectors = new ObjectMapper().readTree(TestData.root().resolve("s3-sigv4-streaming.json").toFile());
        Map<String, List<String>> headers = new LinkedHashMap<>();
        vectors.path("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), List.of(e.getValue().asText())));
        String auth = "AWS4-HMAC-SHA256 Credential=" + vectors.path("accessKeyId").asText() + "/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=" + vectors.path("signedHeaders").asText() + ", Signature=" + vectors.path("seedSignature").asText();
        headers.put("authorization", List.of(auth));
        HttpRequestView view = new HttpRequestView("PUT", vectors.path("path").asText(), "", headers);
        SigV4Verifier verifier = new SigV4Verifier(Clock.fixed(Instant.parse("2013-05-24T00:00:00Z"), ZoneOffset.UTC), Duration.ofMinutes(15));
        seed = verifier.verify(view, SigV4Parser.parse(view), SecretBytes.ofUtf8(vectors.path("secretAccessKey").asText()),
                Optional.empty(), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", true);
    }

    private static byte[] readAll(AwsChunkedDecoder d) throws IOException {
        return d.readAllBytes();
    }

    @Test
    void seedSignatureOfTheS3ReferenceExampleVerifies() {
        assertThat(seed.seedSignature()).isEqualTo(vectors.path("seedSignature").asText());
    }

    @Test
    void referenceExampleDecodesWithItsPublishedChunkSignatures() throws IOException {
        byte[] data = new byte[66560];
        Arrays.fill(data, (byte) 'a');
        byte[] body = AwsChunkedEncoder.encode(data, 65536, seed.signingKey(), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                seed.seedSignature(), null);
        String text = new String(body, StandardCharsets.ISO_8859_1);
        for (JsonNode chunk : vectors.path("chunks")) {
            assertThat(text).contains("chunk-signature=" + chunk.path("signature").asText());
        }
        assertThat(body.length).isEqualTo(vectors.path("headers").path("content-length").asInt());
        AwsChunkedDecoder d = new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.SIGNED, Optional.of(seed),
                Optional.empty(), 66560);
        assertThat(readAll(d)).isEqualTo(data);
    }

    @Test
    void presignedAndRangedReferenceSignaturesMatch() {
        SigV4Signer signer = new SigV4Signer(vectors.path("accessKeyId").asText(), SecretBytes.ofUtf8(vectors.path("secretAccessKey").asText()),
                "us-east-1", "s3");
        String query = signer.presignQuery("GET", "/test.txt", "", "examplebucket.s3.amazonaws.com", 86400, Instant.parse("2013-05-24T00:00:00Z"));
        assertThat(query).endsWith("X-Amz-Signature=" + vectors.path("presignedGet").path("signature").asText());
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "examplebucket.s3.amazonaws.com");
        headers.put("Range", "bytes=0-9");
        headers.put("x-amz-content-sha256", SigV4.EMPTY_SHA256);
        Map<String, String> signed = signer.signHeaders("GET", "/test.txt", "", headers, SigV4.EMPTY_SHA256, Instant.parse("2013-05-24T00:00:00Z"));
        assertThat(signed.get("Authorization")).endsWith("Signature=" + vectors.path("headerGetWithRange").path("signature").asText());
    }

    static String checksum(String name, byte[] data) throws Exception {
        byte[] v = switch (name) {
            case "x-amz-checksum-crc32" -> {
                CRC32 c = new CRC32();
                c.update(data);
                yield ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
            }
            case "x-amz-checksum-crc32c" -> {
                CRC32C c = new CRC32C();
                c.update(data);
                yield ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
            }
            case "x-amz-checksum-sha1" -> MessageDigest.getInstance("SHA-1").digest(data);
            default -> MessageDigest.getInstance("SHA-256").digest(data);
        };
        return Base64.getEncoder().encodeToString(v);
    }

    private static byte[] data(int n) {
        byte[] d = new byte[n];
        new Random(42).nextBytes(d);
        return d;
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256"})
    void unsignedTrailerRoundTripsWithEveryChecksum(String name) throws Exception {
        byte[] data = data(100_000);
        byte[] body = AwsChunkedEncoder.encode(data, 8192, null, null, null, null, name + ":" + checksum(name, data));
        AwsChunkedDecoder d = new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.UNSIGNED_TRAILER,
                Optional.empty(), Optional.of(name), data.length);
        assertThat(readAll(d)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256"})
    void signedTrailerRoundTripsWithEveryChecksum(String name) throws Exception {
        byte[] data = data(70_000);
        byte[] body = AwsChunkedEncoder.encode(data, 65536, seed.signingKey(), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                seed.seedSignature(), name + ":" + checksum(name, data));
        AwsChunkedDecoder d = new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.SIGNED_TRAILER, Optional.of(seed),
                Optional.of(name), data.length);
        assertThat(readAll(d)).isEqualTo(data);
    }

    @Test
    void plainUnsignedChunksRoundTrip() throws IOException {
        byte[] data = data(5000);
        byte[] body = AwsChunkedEncoder.encode(data, 1000, null, null, null, null, null);
        assertThat(readAll(new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.UNSIGNED, Optional.empty(),
                Optional.empty(), data.length))).isEqualTo(data);
    }

    private static void assertFails(byte[] body, AwsChunkedDecoder.Mode mode, Optional<String> trailer, long length, AuthException.Kind kind) {
        assertThatThrownBy(() -> readAll(new AwsChunkedDecoder(new ByteArrayInputStream(body), mode,
                mode.name().startsWith("SIGNED") ? Optional.of(seed) : Optional.empty(), trailer, length)))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    @Test
    void corruptedDataFailsTheChunkSignature() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, seed.signingKey(), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                seed.seedSignature(), null);
        body[body.length / 2] ^= 1;
        assertFails(body, AwsChunkedDecoder.Mode.SIGNED, Optional.empty(), data.length, AuthException.Kind.CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void chunkSignedWithAnotherSeedFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, seed.signingKey(), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                "0".repeat(64), null);
        assertFails(body, AwsChunkedDecoder.Mode.SIGNED, Optional.empty(), data.length, AuthException.Kind.CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void corruptedDataFailsTheTrailerChecksum() throws Exception {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, null, null, null, null, "x-amz-checksum-crc32:" + checksum("x-amz-checksum-crc32", data));
        body[10] ^= 1;
        assertFails(body, AwsChunkedDecoder.Mode.UNSIGNED_TRAILER, Optional.of("x-amz-checksum-crc32"), data.length,
                AuthException.Kind.TRAILER_CHECKSUM_MISMATCH);
    }

    @Test
    void tamperedTrailerSignatureFails() throws Exception {
        byte[] data = data(3000);
        String line = "x-amz-checksum-sha256:" + checksum("x-amz-checksum-sha256", data);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, seed.signingKey(), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                seed.seedSignature(), line);
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("x-amz-trailer-signature:") + "x-amz-trailer-signature:".length();
        body[at] = (byte) (body[at] == '0' ? '1' : '0');
        assertFails(body, AwsChunkedDecoder.Mode.SIGNED_TRAILER, Optional.of("x-amz-checksum-sha256"), data.length,
                AuthException.Kind.CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void wrongDecodedLengthFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, null, null, null, null, null);
        assertFails(body, AwsChunkedDecoder.Mode.UNSIGNED, Optional.empty(), 2999, AuthException.Kind.DECODED_LENGTH_MISMATCH);
        assertFails(body, AwsChunkedDecoder.Mode.UNSIGNED, Optional.empty(), 3001, AuthException.Kind.DECODED_LENGTH_MISMATCH);
    }

    @Test
    void truncatedBodyFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.encode(data, 1024, null, null, null, null, null);
        assertFails(Arrays.copyOf(body, body.length - 10), AwsChunkedDecoder.Mode.UNSIGNED, Optional.empty(), 3000,
                AuthException.Kind.CHUNK_MALFORMED);
    }

    @Test
    void malformedSizesAndLinesFail() {
        for (String bad : List.of("zz\r\n", "100000000\r\n", "1000001\r\n", "-1\r\n", "10\n", "a".repeat(5000) + "\r\n", "4;x=y\r\n")) {
            assertFails(bad.getBytes(StandardCharsets.US_ASCII), AwsChunkedDecoder.Mode.UNSIGNED, Optional.empty(), 0,
                    AuthException.Kind.CHUNK_MALFORMED);
        }
    }

    @Test
    void signedChunkWithoutSignatureFails() {
        assertFails("4\r\nabcd\r\n".getBytes(StandardCharsets.US_ASCII), AwsChunkedDecoder.Mode.SIGNED, Optional.empty(), 4,
                AuthException.Kind.CHUNK_MALFORMED);
    }

    @Test
    void trailerModeNeedsTheTrailerHeader() {
        assertThatThrownBy(() -> new AwsChunkedDecoder(new ByteArrayInputStream(new byte[0]), AwsChunkedDecoder.Mode.UNSIGNED_TRAILER,
                Optional.empty(), Optional.empty(), 0))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.CHUNK_MALFORMED));
        assertThatThrownBy(() -> new AwsChunkedDecoder(new ByteArrayInputStream(new byte[0]), AwsChunkedDecoder.Mode.UNSIGNED_TRAILER,
                Optional.empty(), Optional.of("x-amz-checksum-md5"), 0))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(AuthException.Kind.CHUNK_MALFORMED));
    }

    @Test
    void modesAreNamedByTheContentSha256Header() {
        List<String> names = new ArrayList<>();
        for (AwsChunkedDecoder.Mode m : AwsChunkedDecoder.Mode.values()) {
            assertThat(AwsChunkedDecoder.Mode.of(m.header())).contains(m);
            names.add(m.header());
        }
        assertThat(names).contains("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        assertThat(AwsChunkedDecoder.Mode.of("UNSIGNED-PAYLOAD")).isEmpty();
    }
}
