package dev.citadel.services.s3;

import dev.citadel.core.AwsException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * S3's additional checksums ({@code x-amz-checksum-*}): which one a request asks for, computing it
 * over what is stored, and the composite checksum of a multipart object (the checksum of its
 * parts' checksums, followed by {@code -} and the number of parts). A value is kept as
 * {@code ALGORITHM:base64}.
 */
final class Checksums {
    enum Algorithm {
        CRC32(4), CRC32C(4), SHA1(20), SHA256(32);

        final int length;

        Algorithm(int length) {
            this.length = length;
        }

        String header() {
            return "x-amz-checksum-" + name().toLowerCase(Locale.ROOT);
        }

        /** The member name in S3's XML and in boto3 (ChecksumCRC32, …). */
        String member() {
            return "Checksum" + name();
        }

        static Optional<Algorithm> named(String name) {
            for (Algorithm a : values()) {
                if (a.name().equalsIgnoreCase(name)) {
                    return Optional.of(a);
                }
            }
            return Optional.empty();
        }

        Digest start() {
            return switch (this) {
                case CRC32 -> crc(new CRC32());
                case CRC32C -> crc(new CRC32C());
                case SHA1 -> digest("SHA-1");
                case SHA256 -> digest("SHA-256");
            };
        }
    }

    /** One running checksum. */
    interface Digest {
        void update(byte[] b, int off, int len);

        byte[] finish();
    }

    /** What a request asked for: the algorithm, and the value to verify when it was sent as a header. */
    record Requested(Algorithm algorithm, Optional<byte[]> expected) {
    }

    private Checksums() {
    }

    /**
     * The checksum a PUT or part asks for, from an {@code x-amz-checksum-*} header (whose value
     * is verified after the body), an {@code x-amz-trailer} (verified by the chunk decoder as the
     * body is read), or {@code x-amz-sdk-checksum-algorithm} alone.
     */
    static Optional<Requested> requested(Map<String, String> headers) {
        Optional<Requested> found = Optional.empty();
        for (Algorithm a : Algorithm.values()) {
            String value = headers.get(a.header());
            if (value == null) {
                continue;
            }
            if (found.isPresent()) {
                throw new AwsException("InvalidRequest", 400, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
            }
            found = Optional.of(new Requested(a, Optional.of(decode(a, value))));
        }
        String trailer = headers.get("x-amz-trailer");
        String named = trailer != null && trailer.strip().toLowerCase(Locale.ROOT).startsWith("x-amz-checksum-")
                ? trailer.strip().substring("x-amz-checksum-".length())
                : Optional.ofNullable(headers.get("x-amz-sdk-checksum-algorithm")).orElse(headers.get("x-amz-checksum-algorithm"));
        if (found.isEmpty() && named != null) {
            Algorithm a = Algorithm.named(named).orElseThrow(() -> new AwsException("InvalidRequest", 400,
                    "Value for x-amz-checksum-algorithm header is invalid."));
            found = Optional.of(new Requested(a, Optional.empty()));
        }
        return found;
    }

    static byte[] decode(Algorithm a, String value) {
        try {
            byte[] v = Base64.getDecoder().decode(value.strip());
            if (v.length == a.length) {
                return v;
            }
        } catch (IllegalArgumentException e) {
            // falls through to the error
        }
        throw new AwsException("InvalidRequest", 400, "Value for " + a.header() + " header is invalid.");
    }

    /** The stored form. */
    static String format(Algorithm a, String base64) {
        return a.name() + ":" + base64;
    }

    /** The algorithm and base64 value of a stored checksum. */
    static Map.Entry<Algorithm, String> parse(String stored) {
        int colon = stored.indexOf(':');
        return Map.entry(Algorithm.valueOf(stored.substring(0, colon)), stored.substring(colon + 1));
    }

    /** The composite checksum of a multipart object: the checksum of the parts' checksums, then {@code -N}. */
    static String composite(Algorithm a, java.util.List<String> partChecksums) {
        Digest d = a.start();
        for (String p : partChecksums) {
            byte[] raw = Base64.getDecoder().decode(p);
            d.update(raw, 0, raw.length);
        }
        return Base64.getEncoder().encodeToString(d.finish()) + "-" + partChecksums.size();
    }

    /** An input stream that computes a checksum of what passes through it. */
    static final class Computing extends FilterInputStream {
        private final Digest digest;

        Computing(InputStream in, Algorithm a) {
            super(in);
            this.digest = a.start();
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (c >= 0) {
                digest.update(new byte[] {(byte) c}, 0, 1);
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                digest.update(b, off, n);
            }
            return n;
        }

        byte[] value() {
            return digest.finish();
        }
    }

    private static Digest crc(java.util.zip.Checksum c) {
        return new Digest() {
            @Override
            public void update(byte[] b, int off, int len) {
                c.update(b, off, len);
            }

            @Override
            public byte[] finish() {
                return ByteBuffer.allocate(4).putInt((int) c.getValue()).array();
            }
        };
    }

    private static Digest digest(String name) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return new Digest() {
            @Override
            public void update(byte[] b, int off, int len) {
                md.update(b, off, len);
            }

            @Override
            public byte[] finish() {
                return md.digest();
            }
        };
    }
}
