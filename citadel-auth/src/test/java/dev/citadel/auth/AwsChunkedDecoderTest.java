package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.CHUNK_MALFORMED;
import static dev.citadel.auth.AuthException.Kind.CHUNK_SIGNATURE_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.DECODED_LENGTH_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.TRAILER_CHECKSUM_MISMATCH;
import static dev.citadel.auth.AwsChunkedDecoder.Mode.SIGNED;
import static dev.citadel.auth.AwsChunkedDecoder.Mode.SIGNED_TRAILER;
import static dev.citadel.auth.AwsChunkedDecoder.Mode.UNSIGNED;
import static dev.citadel.auth.AwsChunkedDecoder.Mode.UNSIGNED_TRAILER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.auth.AwsChunkedEncoder.ChunkSigner;
import dev.citadel.auth.AwsChunkedEncoder.Trailer;
import dev.citadel.core.SecretBytes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** aws-chunked bodies in every shape and with every checksum, and each way a body can be wrong. */
class AwsChunkedDecoderTest {
    private static final Instant AT = Instant.parse("2015-08-30T12:36:00Z");
    private static final String CRC32 = "x-amz-checksum-crc32";
    private static final VerifiedSignature SEED = seed();
    private static final ChunkSigner SIGNER = ChunkSigner.of(SEED);

    /** Signs a chunked PUT as a client does, then verifies it as the server does, for its seed. */
    private static VerifiedSignature seed() {
        SecretBytes secret = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("host", "bucket.s3.example.com");
        headers.put("content-encoding", "aws-chunked");
        headers.put("x-amz-content-sha256", SIGNED_TRAILER.header());
        Map<String, String> signed = new SigV4Signer("AKIDEXAMPLE", secret, "us-east-1", "s3")
                .signHeaders("PUT", "/bucket/key", "", headers, SIGNED_TRAILER.header(), AT);
        Map<String, List<String>> received = new LinkedHashMap<>();
        signed.forEach((k, v) -> received.put(k, List.of(v)));
        HttpRequestView view = new HttpRequestView("PUT", "/bucket/key", "", received);
        return new SigV4Verifier(Clock.fixed(AT, ZoneOffset.UTC), Duration.ofMinutes(15))
                .verify(view, SigV4Parser.parse(view), secret, Optional.empty(), SIGNED_TRAILER.header(), true);
    }

    private static byte[] data(int n) {
        byte[] d = new byte[n];
        new Random(n).nextBytes(d);
        return d;
    }

    private static AwsChunkedDecoder decoder(byte[] body, AwsChunkedDecoder.Mode mode, Optional<String> trailer, long length) {
        return new AwsChunkedDecoder(new ByteArrayInputStream(body), mode, Optional.of(SEED), trailer, length);
    }

    private static byte[] decode(byte[] body, AwsChunkedDecoder.Mode mode, Optional<String> trailer, long length) throws IOException {
        try (AwsChunkedDecoder in = decoder(body, mode, trailer, length)) {
            return in.readAllBytes();
        }
    }

    private static void assertRefused(byte[] body, AwsChunkedDecoder.Mode mode, Optional<String> trailer, long length, AuthException.Kind kind) {
        assertThatThrownBy(() -> decode(body, mode, trailer, length))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8191, 8192, 8193, 100_000})
    void signedBodyRoundTrips(int size) throws IOException {
        byte[] data = data(size);
        assertThat(decode(AwsChunkedEncoder.signed(data, 8192, SIGNER), SIGNED, Optional.empty(), size)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256"})
    void signedBodyWithTrailerRoundTripsWithEachChecksum(String checksum) throws IOException {
        byte[] data = data(70_000);
        byte[] body = AwsChunkedEncoder.signedWithTrailer(data, 65536, SIGNER, Trailer.checksum(checksum, data));
        assertThat(decode(body, SIGNED_TRAILER, Optional.of(checksum), data.length)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1", "x-amz-checksum-sha256"})
    void unsignedBodyWithTrailerRoundTripsWithEachChecksum(String checksum) throws IOException {
        byte[] data = data(100_000);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 8192, Trailer.checksum(checksum, data));
        assertThat(decode(body, UNSIGNED_TRAILER, Optional.of(checksum), data.length)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 999, 1000, 5000})
    void plainUnsignedBodyRoundTrips(int size) throws IOException {
        byte[] data = data(size);
        assertThat(decode(AwsChunkedEncoder.unsigned(data, 1000), UNSIGNED, Optional.empty(), size)).isEqualTo(data);
    }

    @Test
    void trailerNameIsMatchedIgnoringCase() throws IOException {
        byte[] data = data(300);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 100, Trailer.checksum(CRC32, data));
        assertThat(decode(body, UNSIGNED_TRAILER, Optional.of("X-Amz-Checksum-CRC32"), data.length)).isEqualTo(data);
    }

    @Test
    void bodyReadOneByteAtATimeDecodes() throws IOException {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signedWithTrailer(data, 1024, SIGNER, Trailer.checksum(CRC32, data));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (AwsChunkedDecoder in = decoder(body, SIGNED_TRAILER, Optional.of(CRC32), data.length)) {
            for (int b = in.read(); b >= 0; b = in.read()) {
                out.write(b);
            }
        }
        assertThat(out.toByteArray()).isEqualTo(data);
    }

    @Test
    void changedDataByteFailsTheChunkSignature() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signed(data, 1024, SIGNER);
        body[body.length / 2] ^= 1;
        assertRefused(body, SIGNED, Optional.empty(), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void changedChunkSignatureCharacterFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signed(data, 1024, SIGNER);
        int at = text(body).indexOf("chunk-signature=", 100) + "chunk-signature=".length();
        body[at] = (byte) (body[at] == '0' ? '1' : '0');
        assertRefused(body, SIGNED, Optional.empty(), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void changedFinalChunkSignatureFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signed(data, 1024, SIGNER);
        int at = text(body).lastIndexOf("chunk-signature=") + "chunk-signature=".length();
        body[at] = (byte) (body[at] == '0' ? '1' : '0');
        assertRefused(body, SIGNED, Optional.empty(), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void chunksChainedToAnotherSeedFail() {
        byte[] data = data(3000);
        ChunkSigner other = new ChunkSigner(SIGNER.signingKey(), SIGNER.amzDate(), SIGNER.scope(), "0".repeat(64));
        assertRefused(AwsChunkedEncoder.signed(data, 1024, other), SIGNED, Optional.empty(), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void reorderedChunksFail() {
        byte[] data = data(2048);
        byte[] first = AwsChunkedEncoder.signed(Arrays.copyOfRange(data, 0, 1024), 1024, SIGNER);
        String body = text(AwsChunkedEncoder.signed(data, 1024, SIGNER));
        int second = body.indexOf("400;chunk-signature=", 10);
        int last = body.indexOf("0;chunk-signature=", second + 10);
        String swapped = body.substring(second, last) + text(first).substring(0, text(first).indexOf("0;chunk-signature=", 10)) + body.substring(last);
        assertRefused(ascii(swapped), SIGNED, Optional.empty(), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void changedDataByteFailsTheUnsignedTrailerChecksum() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 1024, Trailer.checksum(CRC32, data));
        body[10] ^= 1;
        assertRefused(body, UNSIGNED_TRAILER, Optional.of(CRC32), data.length, TRAILER_CHECKSUM_MISMATCH);
    }

    @Test
    void wrongChecksumInASignedTrailerFails() {
        byte[] data = data(3000);
        byte[] other = data(3001);
        byte[] body = AwsChunkedEncoder.signedWithTrailer(data, 1024, SIGNER, Trailer.checksum("x-amz-checksum-sha256", other));
        assertRefused(body, SIGNED_TRAILER, Optional.of("x-amz-checksum-sha256"), data.length, TRAILER_CHECKSUM_MISMATCH);
    }

    @Test
    void changedChecksumAfterSigningFailsTheTrailerSignature() {
        byte[] data = data(3000);
        Trailer right = Trailer.checksum(CRC32, data);
        String body = text(AwsChunkedEncoder.signedWithTrailer(data, 1024, SIGNER, right))
                .replace(right.line(), Trailer.checksum(CRC32, data(5)).line());
        assertRefused(ascii(body), SIGNED_TRAILER, Optional.of(CRC32), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void changedTrailerSignatureCharacterFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signedWithTrailer(data, 1024, SIGNER, Trailer.checksum("x-amz-checksum-sha256", data));
        int at = text(body).indexOf("x-amz-trailer-signature:") + "x-amz-trailer-signature:".length();
        body[at] = (byte) (body[at] == '0' ? '1' : '0');
        assertRefused(body, SIGNED_TRAILER, Optional.of("x-amz-checksum-sha256"), data.length, CHUNK_SIGNATURE_MISMATCH);
    }

    @Test
    void signedTrailerWithoutItsSignatureFails() {
        byte[] data = data(300);
        Trailer t = Trailer.checksum(CRC32, data);
        String body = text(AwsChunkedEncoder.signedWithTrailer(data, 1024, SIGNER, t));
        body = body.substring(0, body.indexOf("x-amz-trailer-signature:")) + "\r\n";
        assertRefused(ascii(body), SIGNED_TRAILER, Optional.of(CRC32), data.length, CHUNK_MALFORMED);
    }

    @Test
    void trailerCarryingAnotherChecksumThanAnnouncedFails() {
        byte[] data = data(300);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 100, Trailer.checksum("x-amz-checksum-sha1", data));
        assertRefused(body, UNSIGNED_TRAILER, Optional.of(CRC32), data.length, CHUNK_MALFORMED);
    }

    @Test
    void trailerChecksumThatIsNotBase64Fails() {
        byte[] data = data(300);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 100, new Trailer(CRC32, "not*base64"));
        assertRefused(body, UNSIGNED_TRAILER, Optional.of(CRC32), data.length, CHUNK_MALFORMED);
    }

    @Test
    void trailerLargerThan16KiBFails() {
        String body = "0\r\n" + (CRC32 + ":" + "A".repeat(4000) + "\r\n").repeat(5) + "\r\n";
        assertRefused(ascii(body), UNSIGNED_TRAILER, Optional.of(CRC32), 0, CHUNK_MALFORMED);
    }

    @Test
    void bodyCutInsideAChunkFails() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.unsigned(data, 1024);
        assertRefused(Arrays.copyOf(body, 1500), UNSIGNED, Optional.empty(), data.length, CHUNK_MALFORMED);
    }

    @Test
    void bodyCutBeforeTheFinalChunkFails() {
        byte[] data = data(2048);
        String body = text(AwsChunkedEncoder.signed(data, 1024, SIGNER));
        assertRefused(ascii(body.substring(0, body.lastIndexOf("0;chunk-signature="))), SIGNED, Optional.empty(), data.length, CHUNK_MALFORMED);
    }

    @Test
    void bodyCutInsideTheTrailerFails() {
        byte[] data = data(300);
        byte[] body = AwsChunkedEncoder.unsignedWithTrailer(data, 100, Trailer.checksum(CRC32, data));
        assertRefused(Arrays.copyOf(body, body.length - 4), UNSIGNED_TRAILER, Optional.of(CRC32), data.length, CHUNK_MALFORMED);
    }

    @Test
    void bodyWithoutTheFinalCrlfFails() {
        byte[] data = data(300);
        byte[] body = AwsChunkedEncoder.unsigned(data, 100);
        assertRefused(Arrays.copyOf(body, body.length - 2), UNSIGNED, Optional.empty(), data.length, CHUNK_MALFORMED);
    }

    @Test
    void dataAfterTheFinalChunkFails() {
        byte[] data = data(300);
        String body = text(AwsChunkedEncoder.unsigned(data, 100)) + "5\r\nextra\r\n";
        assertRefused(ascii(body), UNSIGNED, Optional.empty(), data.length, CHUNK_MALFORMED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zz", "+4", "-1", "", "0x4", " 4", "4 ", "123456789", "٤"})
    void malformedHexSizeFails(String size) {
        assertRefused(ascii(size + "\r\nabcd\r\n0\r\n\r\n"), UNSIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void chunkLargerThan16MiBFailsBeforeAnyDataIsRead() {
        assertRefused(ascii("1000001\r\n"), UNSIGNED, Optional.empty(), 1 << 25, CHUNK_MALFORMED);
    }

    @Test
    void chunkOf16MiBIsAccepted() throws IOException {
        byte[] data = data(16 << 20);
        assertThat(decode(AwsChunkedEncoder.unsigned(data, 16 << 20), UNSIGNED, Optional.empty(), data.length)).hasSize(data.length);
    }

    @Test
    void chunkHeaderLineLongerThan4KiBFails() {
        assertRefused(ascii("4;" + "x".repeat(AwsChunkedDecoder.MAX_LINE) + "\r\n"), UNSIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void chunkHeaderEndingInABareLineFeedFails() {
        assertRefused(ascii("4\nabcd\r\n0\r\n\r\n"), UNSIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void chunkDataNotFollowedByCrlfFails() {
        assertRefused(ascii("4\r\nabcdX\r\n0\r\n\r\n"), UNSIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void unsignedChunkWithAnExtensionFails() {
        assertRefused(ascii("4;x=y\r\nabcd\r\n0\r\n\r\n"), UNSIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void signedChunkWithoutItsSignatureFails() {
        assertRefused(ascii("4\r\nabcd\r\n"), SIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void signedChunkWithAShortSignatureFails() {
        assertRefused(ascii("4;chunk-signature=" + "a".repeat(63) + "\r\nabcd\r\n"), SIGNED, Optional.empty(), 4, CHUNK_MALFORMED);
    }

    @Test
    void decodedLengthLargerThanTheBodyFails() {
        byte[] data = data(3000);
        assertRefused(AwsChunkedEncoder.unsigned(data, 1024), UNSIGNED, Optional.empty(), 3001, DECODED_LENGTH_MISMATCH);
    }

    @Test
    void decodedLengthSmallerThanTheBodyFails() {
        byte[] data = data(3000);
        assertRefused(AwsChunkedEncoder.signed(data, 1024, SIGNER), SIGNED, Optional.empty(), 2999, DECODED_LENGTH_MISMATCH);
    }

    @Test
    void missingDecodedLengthIsRefused() {
        assertThatThrownBy(() -> decoder(new byte[0], UNSIGNED, Optional.empty(), -1))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(DECODED_LENGTH_MISMATCH));
    }

    @Test
    void readAfterAFailureFailsAgain() throws IOException {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signed(data, 1024, SIGNER);
        body[100] ^= 1;
        try (AwsChunkedDecoder in = decoder(body, SIGNED, Optional.empty(), data.length)) {
            byte[] buffer = new byte[4096];
            assertThatThrownBy(() -> in.read(buffer)).isInstanceOf(AuthException.class);
            assertThatThrownBy(() -> in.read(buffer))
                    .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(CHUNK_SIGNATURE_MISMATCH));
        }
    }

    @ParameterizedTest
    @EnumSource(value = AwsChunkedDecoder.Mode.class, names = {"UNSIGNED_TRAILER", "SIGNED_TRAILER"})
    void trailerModeWithoutAnnouncedTrailerIsRefused(AwsChunkedDecoder.Mode mode) {
        assertThatThrownBy(() -> decoder(new byte[0], mode, Optional.empty(), 0))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(CHUNK_MALFORMED));
    }

    @Test
    void unsupportedTrailerChecksumIsRefused() {
        assertThatThrownBy(() -> decoder(new byte[0], UNSIGNED_TRAILER, Optional.of("x-amz-checksum-md5"), 0))
                .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.kind()).isEqualTo(CHUNK_MALFORMED));
    }

    @Test
    void signedModeWithoutASignatureIsACallerError() {
        assertThatThrownBy(() -> new AwsChunkedDecoder(new ByteArrayInputStream(new byte[0]), SIGNED, Optional.empty(), Optional.empty(), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(AwsChunkedDecoder.Mode.class)
    void modeIsNamedByItsContentSha256Value(AwsChunkedDecoder.Mode mode) {
        assertThat(AwsChunkedDecoder.Mode.of(mode.header())).contains(mode);
    }

    @Test
    void unsignedPayloadIsNotAChunkedMode() {
        assertThat(AwsChunkedDecoder.Mode.of(SigV4.UNSIGNED_PAYLOAD)).isEmpty();
    }

    @Test
    void failureMessagesHoldNoComputedSignature() {
        byte[] data = data(3000);
        byte[] body = AwsChunkedEncoder.signed(data, 1024, SIGNER);
        String first = text(body).substring(text(body).indexOf('=') + 1, text(body).indexOf('=') + 65);
        body[100] ^= 1;
        assertThatThrownBy(() -> decode(body, SIGNED, Optional.empty(), data.length))
                .isInstanceOf(AuthException.class)
                .message().doesNotContainPattern("[0-9a-f]{64}").doesNotContain(first);
    }
}
