package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The S3 reference examples of {@code ../shared/testdata/s3-sigv4-streaming.json}: the seed
 * signature of a chunked PUT, its 66560-byte body (64 KiB then 1 KiB of {@code 'a'}) with the
 * published chunk signatures, a presigned GET and a GET with a Range header. S3 signs the path as
 * sent: no dot-segment removal, no second encoding.
 */
class S3StreamingReferenceTest {
    private static final Instant AT = Instant.parse("2013-05-24T00:00:00Z");
    private static final String STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

    private static JsonNode vectors;
    private static SecretBytes secret;
    private static HttpRequestView put;

    @BeforeAll
    static void load() throws IOException {
        vectors = new ObjectMapper().readTree(TestData.root().resolve("s3-sigv4-streaming.json").toFile());
        secret = SecretBytes.ofUtf8(vectors.path("secretAccessKey").asText());
        Map<String, List<String>> headers = new LinkedHashMap<>();
        vectors.path("headers").properties().forEach(e -> headers.put(e.getKey(), List.of(e.getValue().asText())));
        headers.put("authorization", List.of("AWS4-HMAC-SHA256 Credential=" + vectors.path("accessKeyId").asText()
                + "/20130524/us-east-1/s3/aws4_request, SignedHeaders=" + vectors.path("signedHeaders").asText() + ", Signature="
                + vectors.path("seedSignature").asText()));
        put = new HttpRequestView(vectors.path("method").asText(), vectors.path("path").asText(), "", headers);
    }

    private static SigV4Verifier verifier() {
        return new SigV4Verifier(Clock.fixed(AT, ZoneOffset.UTC), Duration.ofMinutes(15));
    }

    private static VerifiedSignature seed() {
        return verifier().verify(put, SigV4Parser.parse(put), secret, Optional.empty(), STREAMING, true);
    }

    private static byte[] referenceData() {
        byte[] data = new byte[66560];
        Arrays.fill(data, (byte) 'a');
        return data;
    }

    @Test
    void seedSignatureIsTheHeaderSignatureOfThePut() {
        CredentialScope scope = new CredentialScope(vectors.path("accessKeyId").asText(), "20130524", "us-east-1", "s3");
        List<String> signed = List.of(vectors.path("signedHeaders").asText().split(";"));
        String canonical = CanonicalRequest.build(put, signed, STREAMING, false, false);
        byte[] key = SigV4.signingKey(secret.revealBytes(), "20130524", "us-east-1", "s3");
        assertThat(SigV4.signatureHex(key, SigV4.stringToSign(vectors.path("amzDate").asText(), scope, canonical)))
                .isEqualTo(vectors.path("seedSignature").asText());
    }

    @Test
    void verifierAcceptsThePutWithItsSeedSignature() {
        assertThat(seed().seedSignature()).isEqualTo(vectors.path("seedSignature").asText());
    }

    @Test
    void encodedReferenceBodyCarriesThePublishedChunkSignaturesInOrder() {
        byte[] body = AwsChunkedEncoder.signed(referenceData(), 65536, AwsChunkedEncoder.ChunkSigner.of(seed()));
        Matcher m = Pattern.compile("([0-9a-f]+);chunk-signature=([0-9a-f]{64})\r\n").matcher(new String(body, StandardCharsets.ISO_8859_1));
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(Integer.parseInt(m.group(1), 16) + ":" + m.group(2));
        }
        List<String> published = new ArrayList<>();
        vectors.path("chunks").forEach(c -> published.add(c.path("size").asInt() + ":" + c.path("signature").asText()));
        assertThat(found).containsExactlyElementsOf(published);
    }

    @Test
    void encodedReferenceBodyHasThePublishedContentLength() {
        byte[] body = AwsChunkedEncoder.signed(referenceData(), 65536, AwsChunkedEncoder.ChunkSigner.of(seed()));
        assertThat(body).hasSize(vectors.path("headers").path("content-length").asInt());
    }

    @Test
    void referenceBodyDecodesToItsData() throws IOException {
        byte[] body = AwsChunkedEncoder.signed(referenceData(), 65536, AwsChunkedEncoder.ChunkSigner.of(seed()));
        try (AwsChunkedDecoder in = new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.SIGNED, Optional.of(seed()),
                Optional.empty(), vectors.path("headers").path("x-amz-decoded-content-length").asLong())) {
            assertThat(in.readAllBytes()).isEqualTo(referenceData());
        }
    }

    @Test
    void presignedGetSignatureMatches() {
        SigV4Signer signer = new SigV4Signer(vectors.path("accessKeyId").asText(), secret, "us-east-1", "s3");
        String query = signer.presignQuery("GET", "/test.txt", "", "examplebucket.s3.amazonaws.com", 86400, AT);
        assertThat(query).endsWith("&X-Amz-Signature=" + vectors.path("presignedGet").path("signature").asText());
    }

    @Test
    void verifierAcceptsThePresignedGet() {
        SigV4Signer signer = new SigV4Signer(vectors.path("accessKeyId").asText(), secret, "us-east-1", "s3");
        String query = signer.presignQuery("GET", "/test.txt", "", "examplebucket.s3.amazonaws.com", 86400, AT);
        HttpRequestView get = new HttpRequestView("GET", "/test.txt", query, Map.of("host", List.of("examplebucket.s3.amazonaws.com")));
        VerifiedSignature verified = verifier().verify(get, SigV4Parser.parse(get), secret, Optional.empty(), SigV4.EMPTY_SHA256, true);
        assertThat(verified.seedSignature()).isEqualTo(vectors.path("presignedGet").path("signature").asText());
    }

    @Test
    void rangedHeaderGetSignatureMatches() {
        SigV4Signer signer = new SigV4Signer(vectors.path("accessKeyId").asText(), secret, "us-east-1", "s3");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", "examplebucket.s3.amazonaws.com");
        headers.put("Range", "bytes=0-9");
        headers.put("x-amz-content-sha256", SigV4.EMPTY_SHA256);
        Map<String, String> signed = signer.signHeaders("GET", "/test.txt", "", headers, SigV4.EMPTY_SHA256, AT);
        assertThat(signed.get("Authorization")).isEqualTo("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature="
                + vectors.path("headerGetWithRange").path("signature").asText());
    }
}
