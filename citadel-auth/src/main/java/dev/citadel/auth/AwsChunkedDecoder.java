package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.CHUNK_MALFORMED;
import static dev.citadel.auth.AuthException.Kind.CHUNK_SIGNATURE_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.DECODED_LENGTH_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.TRAILER_CHECKSUM_MISMATCH;

import dev.citadel.core.Hex;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * Decodes a {@code Content-Encoding: aws-chunked} body, verifying it as it streams, in memory
 * that does not grow with the body. The four shapes, named by {@code x-amz-content-sha256}:
 * <pre>
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD          hex-size;chunk-signature=SIG\r\n DATA \r\n ... 0;chunk-signature=SIG\r\n \r\n
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same chunks, then after the 0 chunk:
 *                                             x-amz-checksum-ALG:BASE64\r\n x-amz-trailer-signature:SIG\r\n \r\n
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER          hex-size\r\n DATA \r\n ... 0\r\n x-amz-checksum-ALG:BASE64\r\n \r\n
 * STREAMING-UNSIGNED-PAYLOAD                  hex-size\r\n DATA \r\n ... 0\r\n \r\n
 * </pre>
 * A chunk signature signs {@code "AWS4-HMAC-SHA256-PAYLOAD\n" + amz-date + "\n" + scope + "\n" +
 * previous-signature + "\n" + hex(SHA256("")) + "\n" + hex(SHA256(data))}, the first chunk chained
 * to the seed signature of the request; the trailer signature signs {@code "AWS4-HMAC-SHA256-TRAILER\n"
 * + amz-date + "\n" + scope + "\n" + previous-signature + "\n" + hex(SHA256(trailer lines, each
 * "name:value\n"))}. The checksum named by {@code x-amz-trailer} (CRC32, CRC32C, SHA-1 or SHA-256,
 * base64 of the big-endian value) is computed over the decoded bytes, and their count must equal
 * {@code x-amz-decoded-content-length}. A chunk header line is at most 4 KiB, a chunk at most
 * 16 MiB and the trailer at most 16 KiB; nothing is allocated from a size before it is checked.
 * A chunk's bytes reach the reader before its signature is checked at the chunk's end: a failure
 * is an {@link AuthException} from {@code read}, and the consumer must discard what it read.
 */
public final class AwsChunkedDecoder extends InputStream {
    public static final int MAX_LINE = 4096;
    public static final int MAX_CHUNK = 16 << 20;
    public static final int MAX_TRAILER = 16 << 10;

    /** The body shapes. */
    public enum Mode {
        SIGNED("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", true, false),
        SIGNED_TRAILER("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", true, true),
        UNSIGNED_TRAILER("STREAMING-UNSIGNED-PAYLOAD-TRAILER", false, true),
        UNSIGNED("STREAMING-UNSIGNED-PAYLOAD", false, false);

        private final String header;
        private final boolean signed;
        private final boolean trailer;

        Mode(String header, boolean signed, boolean trailer) {
            this.header = header;
            this.signed = signed;
            this.trailer = trailer;
        }

        public String header() {
            return header;
        }

        public static Optional<Mode> of(String contentSha256) {
            for (Mode m : values()) {
                if (m.header.equals(contentSha256)) {
                    return Optional.of(m);
                }
            }
            return Optional.empty();
        }
    }

    private final InputStream in;
    private final Mode mode;
    private final VerifiedSignature signature;
    private final String trailerName;
    private final long decodedLength;
    private final MessageDigest chunkHash = SigV4.sha256();
    private final Checksum crc;
    private final MessageDigest digest;
    private String previousSignature;
    private String chunkSignature;
    private long remainingInChunk;
    private long decoded;
    private boolean done;

    /**
     * @param signature     the verified request signature (seed); required for the signed modes
     * @param trailerName   the {@code x-amz-trailer} header value; required for the trailer modes
     * @param decodedLength {@code x-amz-decoded-content-length}
     */
    public AwsChunkedDecoder(InputStream in, Mode mode, Optional<VerifiedSignature> signature, Optional<String> trailerName,
            long decodedLength) {
        this.in = in;
        this.mode = mode;
        if (mode.signed && signature.isEmpty()) {
            throw new IllegalArgumentException("a signed aws-chunked body needs the request's signature");
        }
        this.signature = signature.orElse(null);
        this.previousSignature = signature.map(VerifiedSignature::seedSignature).orElse(null);
        if (mode.trailer && trailerName.isEmpty()) {
            throw new AuthException(CHUNK_MALFORMED, "The x-amz-trailer header is required for " + mode.header + ".");
        }
        this.trailerName = trailerName.map(t -> t.strip().toLowerCase(Locale.ROOT)).orElse(null);
        Checksum c = null;
        MessageDigest d = null;
        if (this.trailerName != null) {
            switch (this.trailerName) {
                case "x-amz-checksum-crc32" -> c = new CRC32();
                case "x-amz-checksum-crc32c" -> c = new CRC32C();
                case "x-amz-checksum-sha1" -> d = digest("SHA-1");
                case "x-amz-checksum-sha256" -> d = digest("SHA-256");
                default -> throw new AuthException(CHUNK_MALFORMED, "The x-amz-trailer header names an unsupported checksum.");
            }
        }
        this.crc = c;
        this.digest = d;
        if (decodedLength < 0) {
            throw new AuthException(DECODED_LENGTH_MISMATCH, "The x-amz-decoded-content-length header is required.");
        }
        this.decodedLength = decodedLength;
    }

    private static MessageDigest digest(String alg) {
        try {
            return MessageDigest.getInstance(alg);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(alg + " unavailable", e);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!done && remainingInChunk == 0) {
            nextChunk();
        }
        if (done) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, remainingInChunk));
        if (n < 0) {
            throw new AuthException(CHUNK_MALFORMED, "The body ended inside a chunk.");
        }
        chunkHash.update(b, off, n);
        if (crc != null) {
            crc.update(b, off, n);
        }
        if (digest != null) {
            digest.update(b, off, n);
        }
        remainingInChunk -= n;
        decoded += n;
        if (decoded > decodedLength) {
            throw new AuthException(DECODED_LENGTH_MISMATCH, "The body is longer than x-amz-decoded-content-length.");
        }
        if (remainingInChunk == 0) {
            expectCrlf();
            verifyChunk();
        }
        return n;
    }

    private void nextChunk() throws IOException {
        String line = readLine(MAX_LINE);
        if (line == null) {
            throw new AuthException(CHUNK_MALFORMED, "The body ended before its final chunk.");
        }
        int semi = line.indexOf(';');
        String hex = semi < 0 ? line : line.substring(0, semi);
        if (hex.isEmpty() || hex.length() > 8) {
            throw new AuthException(CHUNK_MALFORMED, "A chunk size is malformed.");
        }
        long size;
        try {
            size = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new AuthException(CHUNK_MALFORMED, "A chunk size is malformed.");
        }
        if (size < 0 || size > MAX_CHUNK) {
            throw new AuthException(CHUNK_MALFORMED, "A chunk is larger than " + MAX_CHUNK + " bytes.");
        }
        if (mode.signed) {
            String prefix = "chunk-signature=";
            if (semi < 0 || !line.startsWith(prefix, semi + 1) || line.length() != semi + 1 + prefix.length() + 64) {
                throw new AuthException(CHUNK_MALFORMED, "A chunk is missing its chunk-signature.");
            }
            chunkSignature = line.substring(semi + 1 + prefix.length());
        } else if (semi >= 0) {
            throw new AuthException(CHUNK_MALFORMED, "An unsigned chunk carries a signature.");
        }
        chunkHash.reset();
        remainingInChunk = size;
        if (size == 0) {
            verifyChunk();
            finish();
        }
    }

    private void verifyChunk() {
        if (!mode.signed) {
            return;
        }
        String stringToSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signature.authorization().amzDate() + "\n"
                + signature.authorization().scope().scope() + "\n" + previousSignature + "\n" + SigV4.EMPTY_SHA256 + "\n"
                + Hex.encode(chunkHash.digest());
        String expected = SigV4.signatureHex(signature.signingKey(), stringToSign);
        if (!SigV4.sameSignature(expected, chunkSignature)) {
            throw new AuthException(CHUNK_SIGNATURE_MISMATCH, "The chunk signature we calculated does not match the one you provided.");
        }
        previousSignature = chunkSignature;
    }

    private void finish() throws IOException {
        if (mode.trailer) {
            readTrailer();
        } else {
            expectCrlf();
        }
        if (decoded != decodedLength) {
            throw new AuthException(DECODED_LENGTH_MISMATCH, "The body is shorter than x-amz-decoded-content-length.");
        }
        done = true;
    }

    private void readTrailer() throws IOException {
        Map<String, String> trailers = new LinkedHashMap<>();
        StringBuilder signedLines = new StringBuilder();
        String trailerSignature = null;
        int total = 0;
        for (String line = readLine(MAX_LINE); ; line = readLine(MAX_LINE)) {
            if (line == null) {
                throw new AuthException(CHUNK_MALFORMED, "The body ended inside its trailer.");
            }
            if (line.isEmpty()) {
                break;
            }
            total += line.length();
            if (total > MAX_TRAILER || trailers.size() > 16) {
                throw new AuthException(CHUNK_MALFORMED, "The trailer is too large.");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new AuthException(CHUNK_MALFORMED, "A trailer line is malformed.");
            }
            String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (name.equals("x-amz-trailer-signature")) {
                trailerSignature = value;
            } else {
                trailers.put(name, value);
                signedLines.append(name).append(':').append(value).append('\n');
            }
        }
        String given = trailers.get(trailerName);
        if (given == null) {
            throw new AuthException(CHUNK_MALFORMED, "The trailer does not carry the announced " + trailerName + ".");
        }
        byte[] computed = computedChecksum();
        byte[] claimed;
        try {
            claimed = Base64.getDecoder().decode(given);
        } catch (IllegalArgumentException e) {
            throw new AuthException(CHUNK_MALFORMED, "The trailer checksum is not base64.");
        }
        if (!MessageDigest.isEqual(computed, claimed)) {
            throw new AuthException(TRAILER_CHECKSUM_MISMATCH, "The " + trailerName + " you specified did not match the calculated checksum.");
        }
        if (mode.signed) {
            if (trailerSignature == null || trailerSignature.length() != 64) {
                throw new AuthException(CHUNK_MALFORMED, "The trailer is missing its x-amz-trailer-signature.");
            }
            String stringToSign = "AWS4-HMAC-SHA256-TRAILER\n" + signature.authorization().amzDate() + "\n"
                    + signature.authorization().scope().scope() + "\n" + previousSignature + "\n"
                    + SigV4.sha256Hex(signedLines.toString().getBytes(StandardCharsets.UTF_8));
            if (!SigV4.sameSignature(SigV4.signatureHex(signature.signingKey(), stringToSign), trailerSignature)) {
                throw new AuthException(CHUNK_SIGNATURE_MISMATCH, "The trailer signature we calculated does not match the one you provided.");
            }
        } else if (trailerSignature != null) {
            throw new AuthException(CHUNK_MALFORMED, "An unsigned trailer carries a signature.");
        }
    }

    private byte[] computedChecksum() {
        if (crc != null) {
            return ByteBuffer.allocate(4).putInt((int) crc.getValue()).array();
        }
        return digest.digest();
    }

    private void expectCrlf() throws IOException {
        if (in.read() != '\r' || in.read() != '\n') {
            throw new AuthException(CHUNK_MALFORMED, "A chunk is not followed by CRLF.");
        }
    }

    /** Reads a CRLF-terminated line of at most {@code max} characters; null at a clean end of stream. */
    private String readLine(int max) throws IOException {
        StringBuilder sb = new StringBuilder(80);
        for (int c = in.read(); ; c = in.read()) {
            if (c < 0) {
                if (sb.isEmpty()) {
                    return null;
                }
                throw new AuthException(CHUNK_MALFORMED, "The body ended inside a chunk header.");
            }
            if (c == '\r') {
                if (in.read() != '\n') {
                    throw new AuthException(CHUNK_MALFORMED, "A chunk header is not terminated by CRLF.");
                }
                return sb.toString();
            }
            if (sb.length() >= max || c == '\n') {
                throw new AuthException(CHUNK_MALFORMED, "A chunk header line is malformed or too long.");
            }
            sb.append((char) c);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
