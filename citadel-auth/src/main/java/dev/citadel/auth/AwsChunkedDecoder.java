package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.CHUNK_MALFORMED;
import static dev.citadel.auth.AuthException.Kind.CHUNK_SIGNATURE_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.DECODED_LENGTH_MISMATCH;
import static dev.citadel.auth.AuthException.Kind.TRAILER_CHECKSUM_MISMATCH;
import static java.util.Objects.requireNonNull;

import dev.citadel.core.Hex;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * Decodes a {@code Content-Encoding: aws-chunked} body, verifying it as it streams, in memory
 * that does not grow with the body. The four shapes, named by {@code x-amz-content-sha256}
 * (SIZE is the chunk's length in 1 to 8 hex digits, SIG 64 lower-case hex digits, CRLF is
 * {@code \r\n}):
 * <pre>
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD
 *     ( SIZE ";chunk-signature=" SIG CRLF DATA CRLF )*  "0;chunk-signature=" SIG CRLF  CRLF
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
 *     ( SIZE ";chunk-signature=" SIG CRLF DATA CRLF )*  "0;chunk-signature=" SIG CRLF
 *     x-amz-checksum-ALG ":" BASE64 CRLF  "x-amz-trailer-signature:" SIG CRLF  CRLF
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER
 *     ( SIZE CRLF DATA CRLF )*  "0" CRLF  x-amz-checksum-ALG ":" BASE64 CRLF  CRLF
 * STREAMING-UNSIGNED-PAYLOAD (plain unsigned chunks)
 *     ( SIZE CRLF DATA CRLF )*  "0" CRLF  CRLF
 * </pre>
 * Nothing may follow the final CRLF.
 * <p>
 * A chunk signature is {@code hex(HMAC-SHA256(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" + amz-date +
 * "\n" + scope + "\n" + previous-signature + "\n" + hex(SHA256("")) + "\n" + hex(SHA256(DATA))))},
 * where the previous signature of the first chunk is the seed signature of the request (the one in
 * its Authorization header) and the final zero-length chunk is signed like any other. The trailer
 * signature is {@code hex(HMAC-SHA256(signing key, "AWS4-HMAC-SHA256-TRAILER\n" + amz-date + "\n" +
 * scope + "\n" + previous-signature + "\n" + hex(SHA256(trailer))))}, the previous signature being
 * that of the final chunk and {@code trailer} the checksum line as {@code "name:value\n"}.
 * <p>
 * The trailer holds exactly the checksum announced by {@code x-amz-trailer}: CRC32, CRC32C
 * (Castagnoli), SHA-1 or SHA-256 of the decoded bytes, base64 of the big-endian value. The count of
 * decoded bytes must equal {@code x-amz-decoded-content-length}. Signatures are compared in
 * constant time.
 * <p>
 * Bounds, checked before anything is allocated from a size read off the wire: a chunk header line
 * (or trailer line) is at most {@value #MAX_LINE} bytes, a chunk at most {@value #MAX_CHUNK} bytes
 * (16 MiB; the SDKs send 8 KiB to 1 MiB and S3 refuses less than 8 KiB only for non-final chunks,
 * which this decoder does not enforce), the trailer at most {@value #MAX_TRAILER} bytes.
 * <p>
 * A chunk's bytes reach the reader before its signature is checked at the chunk's end: a failure
 * is an {@link AuthException} from {@code read} (kinds {@code CHUNK_MALFORMED},
 * {@code CHUNK_SIGNATURE_MISMATCH}, {@code TRAILER_CHECKSUM_MISMATCH},
 * {@code DECODED_LENGTH_MISMATCH}), every later {@code read} throws it again, and the consumer must
 * discard what it read. Messages never hold a computed signature.
 */
public final class AwsChunkedDecoder extends InputStream {
    public static final int MAX_LINE = 4096;
    public static final int MAX_CHUNK = 16 << 20;
    public static final int MAX_TRAILER = 16 << 10;
    private static final String CHUNK_SIGNATURE = "chunk-signature=";
    private static final String TRAILER_SIGNATURE = "x-amz-trailer-signature";

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
    private final byte[] one = new byte[1];
    private final StringBuilder line = new StringBuilder(128);
    private String previousSignature;
    private String chunkSignature;
    private long remainingInChunk;
    private long decoded;
    private boolean done;
    private AuthException failure;

    /**
     * @param in            the body as received, after the HTTP framing
     * @param mode          the shape, from {@link Mode#of(String)} of {@code x-amz-content-sha256}
     * @param signature     the verified request signature (signing key, seed signature, date and
     *                      scope); required for the signed modes, ignored for the unsigned ones
     * @param trailerName   the {@code x-amz-trailer} header value; required for the trailer modes
     * @param decodedLength {@code x-amz-decoded-content-length}; negative when the header was absent
     * @throws IllegalArgumentException a signed mode without a signature (a caller's mistake)
     * @throws AuthException            the trailer is missing or unsupported, or the length is absent
     */
    public AwsChunkedDecoder(InputStream in, Mode mode, Optional<VerifiedSignature> signature, Optional<String> trailerName,
            long decodedLength) {
        this.in = requireNonNull(in, "in is null");
        this.mode = requireNonNull(mode, "mode is null");
        requireNonNull(signature, "signature is null");
        requireNonNull(trailerName, "trailerName is null");
        if (mode.signed && signature.isEmpty()) {
            throw new IllegalArgumentException("a signed aws-chunked body needs the request's signature");
        }
        this.signature = mode.signed ? signature.get() : null;
        this.previousSignature = mode.signed ? signature.get().seedSignature() : null;
        if (mode.trailer && trailerName.isEmpty()) {
            throw new AuthException(CHUNK_MALFORMED, "The x-amz-trailer header is required for " + mode.header + ".");
        }
        this.trailerName = mode.trailer ? trailerName.get().strip().toLowerCase(Locale.ROOT) : null;
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
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (failure != null) {
            throw failure;
        }
        try {
            return readVerified(b, off, len);
        } catch (AuthException e) {
            failure = e;
            throw e;
        }
    }

    private int readVerified(byte[] b, int off, int len) throws IOException {
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
        String header = readLine(true);
        int semi = header.indexOf(';');
        int size = chunkSize(semi < 0 ? header : header.substring(0, semi));
        if (mode.signed) {
            if (semi < 0 || !header.startsWith(CHUNK_SIGNATURE, semi + 1) || header.length() != semi + 1 + CHUNK_SIGNATURE.length() + 64) {
                throw new AuthException(CHUNK_MALFORMED, "A chunk is missing its chunk-signature.");
            }
            chunkSignature = header.substring(semi + 1 + CHUNK_SIGNATURE.length());
        } else if (semi >= 0) {
            throw new AuthException(CHUNK_MALFORMED, "An unsigned chunk carries an extension.");
        }
        chunkHash.reset();
        remainingInChunk = size;
        if (size == 0) {
            verifyChunk();
            finish();
        }
    }

    /** 1 to 8 ASCII hex digits, at most {@link #MAX_CHUNK}; {@code Long.parseLong} would also take a sign. */
    private static int chunkSize(String hex) {
        if (hex.isEmpty() || hex.length() > 8) {
            throw new AuthException(CHUNK_MALFORMED, "A chunk size is malformed.");
        }
        long size = 0;
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (digit < 0) {
                throw new AuthException(CHUNK_MALFORMED, "A chunk size is malformed.");
            }
            size = (size << 4) | digit;
        }
        if (size > MAX_CHUNK) {
            throw new AuthException(CHUNK_MALFORMED, "A chunk is larger than " + MAX_CHUNK + " bytes.");
        }
        return (int) size;
    }

    private void verifyChunk() {
        if (!mode.signed) {
            return;
        }
        String stringToSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signature.authorization().amzDate() + "\n"
                + signature.authorization().scope().scope() + "\n" + previousSignature + "\n" + SigV4.EMPTY_SHA256 + "\n"
                + Hex.encode(chunkHash.digest());
        if (!SigV4.sameSignature(SigV4.signatureHex(signature.signingKey(), stringToSign), chunkSignature)) {
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
        if (in.read() >= 0) {
            throw new AuthException(CHUNK_MALFORMED, "Data follows the final chunk.");
        }
        done = true;
    }

    private void readTrailer() throws IOException {
        String checksum = null;
        String trailerSignature = null;
        int total = 0;
        for (String trailerLine = readLine(false); !trailerLine.isEmpty(); trailerLine = readLine(false)) {
            total += trailerLine.length() + 2;
            if (total > MAX_TRAILER) {
                throw new AuthException(CHUNK_MALFORMED, "The trailer is too large.");
            }
            int colon = trailerLine.indexOf(':');
            String name = colon < 0 ? "" : trailerLine.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = trailerLine.substring(colon + 1).strip();
            if (name.equals(trailerName) && checksum == null) {
                checksum = value;
            } else if (name.equals(TRAILER_SIGNATURE) && mode.signed && trailerSignature == null) {
                trailerSignature = value;
            } else {
                throw new AuthException(CHUNK_MALFORMED, "The trailer holds a line other than the announced " + trailerName
                        + (mode.signed ? " and its x-amz-trailer-signature." : "."));
            }
        }
        if (checksum == null) {
            throw new AuthException(CHUNK_MALFORMED, "The trailer does not carry the announced " + trailerName + ".");
        }
        if (mode.signed) {
            if (trailerSignature == null) {
                throw new AuthException(CHUNK_MALFORMED, "The trailer is missing its x-amz-trailer-signature.");
            }
            String signedTrailer = trailerName + ":" + checksum + "\n";
            String stringToSign = "AWS4-HMAC-SHA256-TRAILER\n" + signature.authorization().amzDate() + "\n"
                    + signature.authorization().scope().scope() + "\n" + previousSignature + "\n"
                    + SigV4.sha256Hex(signedTrailer.getBytes(StandardCharsets.ISO_8859_1));
            if (!SigV4.sameSignature(SigV4.signatureHex(signature.signingKey(), stringToSign), trailerSignature)) {
                throw new AuthException(CHUNK_SIGNATURE_MISMATCH, "The trailer signature we calculated does not match the one you provided.");
            }
        }
        byte[] claimed;
        try {
            claimed = Base64.getDecoder().decode(checksum);
        } catch (IllegalArgumentException e) {
            throw new AuthException(CHUNK_MALFORMED, "The trailer checksum is not base64.");
        }
        if (!MessageDigest.isEqual(computedChecksum(), claimed)) {
            throw new AuthException(TRAILER_CHECKSUM_MISMATCH, "The " + trailerName + " you specified did not match the calculated checksum.");
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

    /**
     * Reads a CRLF-terminated line of at most {@link #MAX_LINE} bytes, each byte one char
     * (ISO-8859-1), into the one reused buffer.
     */
    private String readLine(boolean chunkHeader) throws IOException {
        line.setLength(0);
        for (int c = in.read(); ; c = in.read()) {
            if (c < 0) {
                throw new AuthException(CHUNK_MALFORMED, chunkHeader ? "The body ended before its final chunk." : "The body ended inside its trailer.");
            }
            if (c == '\r') {
                if (in.read() != '\n') {
                    throw new AuthException(CHUNK_MALFORMED, "A chunk header is not terminated by CRLF.");
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE || c == '\n') {
                throw new AuthException(CHUNK_MALFORMED, "A chunk header line is malformed or longer than " + MAX_LINE + " bytes.");
            }
            line.append((char) c);
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
