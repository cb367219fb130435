package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.auth.AwsChunkedEncoder.ChunkSigner;
import dev.citadel.auth.AwsChunkedEncoder.Trailer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Fuzzes {@link AwsChunkedDecoder} under each mode, with a fixed signing key and seed signature.
 * Only {@link AuthException} may escape.
 * <ul>
 *   <li>{@code rawBody}: the input is a first line {@code MODE TRAILER DECODED-LENGTH} (a
 *       {@link AwsChunkedDecoder.Mode} name, an {@code x-amz-checksum-*} name, a decimal) ending in
 *       LF, then the body as sent. Signed chunks in it only verify when the seed copied them from
 *       {@link AwsChunkedEncoder} output for this key.</li>
 *   <li>{@code encodedThenDamaged}: the fuzzer picks a mode, checksum, chunk size and data; the
 *       body is encoded correctly (so signatures verify and decoding goes deep), then at most one
 *       damage is applied (a flipped byte, a cut, an inserted byte or a wrong decoded length).
 *       Undamaged, the decoded bytes must equal the data.</li>
 * </ul>
 * Under {@code mvn test} the regression corpora in
 * {@code src/test/resources/dev/citadel/auth/AwsChunkedDecoderFuzzTestInputs/<method>/} run. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -B -o -pl citadel-auth -am test
 * -Dtest='AwsChunkedDecoderFuzzTest#rawBody' -Dsurefire.failIfNoSpecifiedTests=false} (one method
 * at a time); keep each crash input in that method's directory once fixed.
 */
class AwsChunkedDecoderFuzzTest {
    private static final List<String> CHECKSUMS = List.of("x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
            "x-amz-checksum-sha256");
    static final VerifiedSignature SEED = new VerifiedSignature(
            new SigV4Authorization(new CredentialScope("AKIDEXAMPLE", "20150830", "us-east-1", "s3"), List.of("host"), "a".repeat(64),
                    "20150830T123600Z", FuzzInputs.NOW, false, 0, Optional.empty()),
            SigV4.signingKey(FuzzInputs.SECRET.revealBytes(), "20150830", "us-east-1", "s3"));

    @FuzzTest(maxDuration = "60s")
    void rawBody(byte[] input) throws IOException {
        int lf = indexOf(input, (byte) '\n');
        if (lf < 0) {
            return;
        }
        String[] head = new String(input, 0, lf, StandardCharsets.US_ASCII).split(" ");
        if (head.length != 3 || Arrays.stream(AwsChunkedDecoder.Mode.values()).noneMatch(m -> m.name().equals(head[0]))
                || !head[2].matches("[0-9]{1,9}")) {
            return;
        }
        decode(Arrays.copyOfRange(input, lf + 1, input.length), AwsChunkedDecoder.Mode.valueOf(head[0]), head[1], Long.parseLong(head[2]));
    }

    @FuzzTest(maxDuration = "60s")
    void encodedThenDamaged(FuzzedDataProvider data) throws IOException {
        AwsChunkedDecoder.Mode mode = data.pickValue(AwsChunkedDecoder.Mode.values());
        String checksum = data.pickValue(CHECKSUMS);
        int chunkSize = data.consumeInt(1, 70_000);
        int damage = data.consumeInt(0, 4);
        int where = data.consumeInt(0, Integer.MAX_VALUE);
        byte[] plain = data.consumeRemainingAsBytes();
        ChunkSigner signer = ChunkSigner.of(SEED);
        byte[] body = switch (mode) {
            case SIGNED -> AwsChunkedEncoder.signed(plain, chunkSize, signer);
            case SIGNED_TRAILER -> AwsChunkedEncoder.signedWithTrailer(plain, chunkSize, signer, Trailer.checksum(checksum, plain));
            case UNSIGNED_TRAILER -> AwsChunkedEncoder.unsignedWithTrailer(plain, chunkSize, Trailer.checksum(checksum, plain));
            case UNSIGNED -> AwsChunkedEncoder.unsigned(plain, chunkSize);
        };
        int at = where % body.length;
        long length = plain.length;
        switch (damage) {
            case 1 -> body[at] ^= (byte) (1 + (where >>> 24) % 255);
            case 2 -> body = Arrays.copyOf(body, at);
            case 3 -> {
                byte[] longer = new byte[body.length + 1];
                System.arraycopy(body, 0, longer, 0, at);
                longer[at] = (byte) (where >>> 24);
                System.arraycopy(body, at, longer, at + 1, body.length - at);
                body = longer;
            }
            case 4 -> length = plain.length + (where % 2 == 0 ? 1 : -1);
            default -> {
            }
        }
        Optional<byte[]> decoded = decode(body, mode, checksum, length);
        if (damage == 0) {
            assertThat(decoded).hasValueSatisfying(d -> assertThat(d).isEqualTo(plain));
        }
    }

    private static Optional<byte[]> decode(byte[] body, AwsChunkedDecoder.Mode mode, String checksum, long length) throws IOException {
        try (AwsChunkedDecoder in = new AwsChunkedDecoder(new ByteArrayInputStream(body), mode, Optional.of(SEED), Optional.of(checksum),
                length)) {
            return Optional.of(in.readAllBytes());
        } catch (AuthException refused) {
            return Optional.empty();
        }
    }

    private static int indexOf(byte[] input, byte b) {
        for (int i = 0; i < input.length; i++) {
            if (input[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
