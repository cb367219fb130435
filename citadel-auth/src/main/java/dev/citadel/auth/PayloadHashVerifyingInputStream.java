package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Objects;

/**
 * Passes a body through while hashing it with SHA-256, and at its end compares the hash with the
 * one the client claimed in {@code x-amz-content-sha256} (64 hex digits, either case), in constant
 * time. A mismatch is an {@link AuthException} of kind {@code PAYLOAD_HASH_MISMATCH} from the
 * {@code read} that reaches the end, and from every {@code read} after it; the consumer must
 * discard what it read. {@code skip} reads (and hashes) what it skips, and {@code mark}/{@code reset}
 * are not offered, so that every byte is hashed exactly once.
 */
public final class PayloadHashVerifyingInputStream extends FilterInputStream {
    private static final String MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed.";

    private final byte[] expected;
    private final MessageDigest sha256 = SigV4.sha256();
    private final byte[] one = new byte[1];
    private boolean verified;
    private AuthException failure;

    /**
     * @param in             the body as received
     * @param expectedSha256 the {@code x-amz-content-sha256} value
     * @throws AuthException the claimed value is not 64 hex digits ({@code PAYLOAD_HASH_MISMATCH})
     */
    public PayloadHashVerifyingInputStream(InputStream in, String expectedSha256) {
        super(requireNonNull(in, "in is null"));
        requireNonNull(expectedSha256, "expectedSha256 is null");
        this.expected = parseHex(expectedSha256.toLowerCase(Locale.ROOT));
    }

    private static byte[] parseHex(String hex) {
        if (hex.length() != 64) {
            throw new AuthException(AuthException.Kind.PAYLOAD_HASH_MISMATCH, "The x-amz-content-sha256 header is not a SHA-256 in hex.");
        }
        byte[] out = new byte[32];
        for (int i = 0; i < 64; i++) {
            char c = hex.charAt(i);
            int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (v < 0) {
                throw new AuthException(AuthException.Kind.PAYLOAD_HASH_MISMATCH, "The x-amz-content-sha256 header is not a SHA-256 in hex.");
            }
            out[i / 2] |= (byte) (i % 2 == 0 ? v << 4 : v);
        }
        return out;
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
        if (len == 0) {
            return 0;
        }
        int n = in.read(b, off, len);
        if (n > 0) {
            sha256.update(b, off, n);
        } else if (n < 0 && !verified) {
            if (!MessageDigest.isEqual(sha256.digest(), expected)) {
                failure = new AuthException(AuthException.Kind.PAYLOAD_HASH_MISMATCH, MISMATCH);
                throw failure;
            }
            verified = true;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // marking would let a byte be hashed twice; markSupported() says it is not offered
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }
}
