package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * Client-side aws-chunked encoding, as the AWS SDKs produce it, in the four shapes that
 * {@link AwsChunkedDecoder} documents. Data is cut into chunks of {@code chunkSize} bytes (the last
 * one shorter), followed by the zero-length final chunk.
 */
final class AwsChunkedEncoder {
    private static final byte[] CRLF = {'\r', '\n'};

    private AwsChunkedEncoder() {
    }

    /** What signs the chunks: the request's signing key, date, scope and seed signature. */
    record ChunkSigner(byte[] signingKey, String amzDate, String scope, String seedSignature) {
        ChunkSigner {
            requireNonNull(signingKey, "signingKey is null");
            requireNonNull(amzDate, "amzDate is null");
            requireNonNull(scope, "scope is null");
            requireNonNull(seedSignature, "seedSignature is null");
        }

        static ChunkSigner of(VerifiedSignature seed) {
            return new ChunkSigner(seed.signingKey(), seed.authorization().amzDate(), seed.authorization().scope().scope(),
                    seed.seedSignature());
        }

        String sign(String previous, byte[] chunk) {
            return SigV4.signatureHex(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                    + SigV4.EMPTY_SHA256 + "\n" + SigV4.sha256Hex(chunk));
        }

        String signTrailer(String previous, String trailerLines) {
            return SigV4.signatureHex(signingKey, "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                    + SigV4.sha256Hex(trailerLines.getBytes(StandardCharsets.ISO_8859_1)));
        }
    }

    /** One trailer line, {@code name:value}. */
    record Trailer(String name, String value) {
        Trailer {
            requireNonNull(name, "name is null");
            requireNonNull(value, "value is null");
        }

        /** The checksum trailer {@code name} (x-amz-checksum-crc32, -crc32c, -sha1, -sha256) of {@code data}. */
        static Trailer checksum(String name, byte[] data) {
            byte[] value = switch (name) {
                case "x-amz-checksum-crc32" -> crc(new CRC32(), data);
                case "x-amz-checksum-crc32c" -> crc(new CRC32C(), data);
                case "x-amz-checksum-sha1" -> digest("SHA-1", data);
                case "x-amz-checksum-sha256" -> digest("SHA-256", data);
                default -> throw new IllegalArgumentException("unknown checksum " + name);
            };
            return new Trailer(name, Base64.getEncoder().encodeToString(value));
        }

        private static byte[] crc(Checksum c, byte[] data) {
            c.update(data, 0, data.length);
            return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
        }

        private static byte[] digest(String algorithm, byte[] data) {
            try {
                return MessageDigest.getInstance(algorithm).digest(data);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        String line() {
            return name + ":" + value;
        }
    }

    /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD. */
    static byte[] signed(byte[] data, int chunkSize, ChunkSigner signer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeChunks(out, data, chunkSize, signer);
        out.writeBytes(CRLF);
        return out.toByteArray();
    }

    /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER. */
    static byte[] signedWithTrailer(byte[] data, int chunkSize, ChunkSigner signer, Trailer trailer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String last = writeChunks(out, data, chunkSize, signer);
        ascii(out, trailer.line());
        ascii(out, "x-amz-trailer-signature:" + signer.signTrailer(last, trailer.line() + "\n"));
        out.writeBytes(CRLF);
        return out.toByteArray();
    }

    /** STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
    static byte[] unsignedWithTrailer(byte[] data, int chunkSize, Trailer trailer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeChunks(out, data, chunkSize, null);
        ascii(out, trailer.line());
        out.writeBytes(CRLF);
        return out.toByteArray();
    }

    /** Plain unsigned chunks (STREAMING-UNSIGNED-PAYLOAD). */
    static byte[] unsigned(byte[] data, int chunkSize) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeChunks(out, data, chunkSize, null);
        out.writeBytes(CRLF);
        return out.toByteArray();
    }

    /** Writes every chunk and the final one, each header line ending in CRLF; returns the last signature. */
    private static String writeChunks(ByteArrayOutputStream out, byte[] data, int chunkSize, ChunkSigner signer) {
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunkSize must be positive");
        }
        String previous = signer == null ? null : signer.seedSignature();
        for (int offset = 0, n; ; offset += n) {
            n = Math.min(chunkSize, data.length - offset);
            byte[] chunk = Arrays.copyOfRange(data, offset, offset + n);
            String header = Integer.toHexString(n);
            if (signer != null) {
                previous = signer.sign(previous, chunk);
                header += ";chunk-signature=" + previous;
            }
            ascii(out, header);
            if (n == 0) {
                return previous;
            }
            out.writeBytes(chunk);
            out.writeBytes(CRLF);
        }
    }

    private static void ascii(ByteArrayOutputStream out, String line) {
        out.writeBytes(line.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(CRLF);
    }
}
