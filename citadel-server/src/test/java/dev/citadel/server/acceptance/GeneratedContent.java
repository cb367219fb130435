package dev.citadel.server.acceptance;

import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Object contents of any size, computed rather than stored, so that a test can upload gigabytes
 * without holding them: the byte at position {@code p} is byte {@code p mod 8} (little-endian) of
 * SplitMix64's finalizer applied to {@code seed + p / 8}. Any range can be produced on its own,
 * which is what checking a ranged GET needs.
 */
record GeneratedContent(long seed, long size) {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    GeneratedContent {
        if (size < 0) {
            throw new IllegalArgumentException("size is negative: " + size);
        }
    }

    /** The bytes {@code [offset, offset + length)} as a stream, produced as they are read. */
    InputStream stream(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " outside " + size);
        }
        return new InputStream() {
            private long position = offset;
            private final long end = offset + length;

            @Override
            public int read() {
                if (position >= end) {
                    return -1;
                }
                return byteAt(position++) & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (position >= end) {
                    return -1;
                }
                int n = (int) Math.min(len, end - position);
                fill(position, b, off, n);
                position += n;
                return n;
            }

            @Override
            public long skip(long n) {
                long skipped = Math.max(0, Math.min(n, end - position));
                position += skipped;
                return skipped;
            }

            @Override
            public int available() {
                return (int) Math.min(Integer.MAX_VALUE, end - position);
            }
        };
    }

    InputStream stream() {
        return stream(0, size);
    }

    /** Writes the bytes from {@code position} into {@code b[off, off + len)}. */
    void fill(long position, byte[] b, int off, int len) {
        int i = 0;
        while (i < len && ((position + i) & 7) != 0) {
            b[off + i] = byteAt(position + i);
            i++;
        }
        long word = (position + i) >>> 3;
        for (; i + 8 <= len; i += 8) {
            LONG_LE.set(b, off + i, mix(seed + word++));
        }
        for (; i < len; i++) {
            b[off + i] = byteAt(position + i);
        }
    }

    byte[] bytes(long position, int length) {
        byte[] b = new byte[length];
        fill(position, b, 0, length);
        return b;
    }

    /** The SHA-256 of the whole content, computed by streaming it. */
    String sha256Hex() {
        return digestHex(stream(), "SHA-256");
    }

    String md5Hex() {
        return digestHex(stream(), "MD5");
    }

    static String digestHex(InputStream in, String algorithm) {
        try (in) {
            MessageDigest digest = MessageDigest.getInstance(algorithm);
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private byte byteAt(long p) {
        return (byte) (mix(seed + (p >>> 3)) >>> ((p & 7) * 8));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
