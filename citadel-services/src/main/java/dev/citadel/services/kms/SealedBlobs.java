package dev.citadel.services.kms;

import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import dev.citadel.metadata.kms.KmsRepository.Key;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The envelope every object, image layer, model artifact and audit file is stored in: a header
 * naming the KMS key and carrying a fresh data key wrapped by it, then the content under a
 * segmented streaming AEAD (Tink's AesGcmHkdfStreaming: AES-256-GCM, a key per blob derived with
 * HKDF-SHA256, segments each with its own tag), so a range read decrypts only the segments it
 * touches and memory stays constant whatever the size. Version 1 has 1 MiB segments, version 2
 * 64 KiB segments; a blob of at most {@value #SMALL} bytes is written as version 2, a larger one
 * as version 1 (the first {@value #SMALL} bytes are held back until the size class is known).
 * Opening a blob allocates two segment buffers, so small blobs keep a GET of a small object from
 * allocating megabytes, and large ones keep the per-segment cost (a GCM setup each) low.
 *
 * <pre>
 * sealed = "CTZB" || version (1 byte: 0x02, or 0x01 for 1 MiB segments) || header length H (u16, ≤ 8192) || header
 * header = key ARN length (u16, 1..2048) || key ARN (UTF-8)
 *       || wrapped data key length (u16, 1..6144) || wrapped data key (a KMS ciphertext blob of the
 *          32-byte stream key under that KMS key, bound to the encryption context)
 *       || stream (Tink: header with salt and nonce prefix, then the segments)
 * stream associated data = "citadel/sealed/v1\0" || everything before the stream
 *                       || the encryption context (each pair in key order, u16-length-prefixed UTF-8)
 * </pre>
 * The header and the context are bound to every segment: changing either, reordering, dropping or
 * truncating segments makes the read fail. Opening needs the KMS key enabled; once the key is
 * deleted its material is gone and so is every blob sealed under it.
 */
public final class SealedBlobs {
    private static final byte[] MAGIC = "CTZB".getBytes(StandardCharsets.US_ASCII);
    private static final byte LARGE = 1;
    private static final byte SMALL_VERSION = 2;
    /** The largest blob written with small segments. */
    static final int SMALL = 256 << 10;
    private static final int MAX_HEADER = 8192;

    /** The segment size of a version, or 0 for an unknown one. */
    private static int segmentSize(byte version) {
        return switch (version) {
            case 1 -> 1 << 20;
            case 2 -> 64 << 10;
            default -> 0;
        };
    }
    private static final byte[] AAD_PREFIX = "citadel/sealed/v1\0".getBytes(StandardCharsets.US_ASCII);

    /** Why a blob did not open: not this format, unknown or unusable key, wrong context, or altered. */
    public static final class SealedBlobException extends IOException {
        SealedBlobException(String message) {
            super(message);
        }
    }

    /** A parsed header: the key, the wrapped data key, and how many bytes precede the stream. */
    public record Header(String keyArn, byte[] wrappedKey, int length) {
    }

    private final KmsKeys keys;

    public SealedBlobs(KmsKeys keys) {
        this.keys = keys;
    }

    /** Seals what is written to the returned stream into {@code sink}; closing it finishes the last segment. */
    public OutputStream seal(OutputStream sink, Key key, Map<String, String> context) throws IOException {
        checkUsable(key);
        return new OutputStream() {
            private ByteArrayOutputStream pending = new ByteArrayOutputStream();
            private OutputStream stream;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (stream == null && pending.size() + len <= SMALL) {
                    pending.write(b, off, len);
                    return;
                }
                if (stream == null) {
                    stream = seal(sink, key, context, LARGE);
                    pending.writeTo(stream);
                    pending = null;
                }
                stream.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                if (stream != null) {
                    stream.flush();
                }
            }

            @Override
            public void close() throws IOException {
                if (stream == null) {
                    stream = seal(sink, key, context, SMALL_VERSION);
                    pending.writeTo(stream);
                    pending = null;
                }
                stream.close();
            }
        };
    }

    private static void checkUsable(Key key) throws SealedBlobException {
        if (!key.state().equals("Enabled") || !key.keyUsage().equals("ENCRYPT_DECRYPT")) {
            throw new SealedBlobException("the KMS key " + key.arn() + " cannot encrypt (" + key.state() + ", " + key.keyUsage() + ")");
        }
    }

    /** Seals in the given version's format, whatever the size. */
    OutputStream seal(OutputStream sink, Key key, Map<String, String> context, byte version) throws IOException {
        if (segmentSize(version) == 0) {
            throw new IllegalArgumentException("unknown sealed-blob version " + version);
        }
        checkUsable(key);
        byte[] dataKey = keys.randomBytes(32);
        byte[] wrapped = keys.encrypt(key, dataKey, context);
        byte[] prefix = prefix(key.arn(), wrapped, version);
        sink.write(prefix);
        try {
            AesGcmHkdfStreaming aead = new AesGcmHkdfStreaming(dataKey, "HmacSha256", 32, segmentSize(version), 0);
            return aead.newEncryptingStream(new FilterOutputStream(sink) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }
            }, associatedData(prefix, context));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the streaming AEAD could not be set up", e);
        } finally {
            java.util.Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** Seals a whole byte array (small values). */
    public byte[] seal(byte[] plaintext, Key key, Map<String, String> context) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream s = seal(out, key, context)) {
            s.write(plaintext);
        }
        return out.toByteArray();
    }

    /** The plaintext of a sealed blob as a seekable channel: reading at any position decrypts only the segments it covers. */
    public SeekableByteChannel open(SeekableByteChannel source, Map<String, String> context) throws IOException {
        source.position(0);
        ByteBuffer fixed = ByteBuffer.allocate(MAGIC.length + 3);
        readFully(source, fixed);
        int headerLength = fixed.getShort(MAGIC.length + 1) & 0xffff;
        if (!java.util.Arrays.equals(fixed.array(), 0, MAGIC.length, MAGIC, 0, MAGIC.length) || segmentSize(fixed.get(MAGIC.length)) == 0
                || headerLength > MAX_HEADER || headerLength < 4) {
            throw new SealedBlobException("not a sealed blob of a known version");
        }
        ByteBuffer header = ByteBuffer.allocate(headerLength);
        readFully(source, header);
        byte[] prefix = ByteBuffer.allocate(fixed.capacity() + headerLength).put(fixed.array()).put(header.array()).array();
        Header h = parseHeader(prefix).orElseThrow(() -> new SealedBlobException("the sealed blob's header is malformed"));
        String keyId = h.keyArn().substring(h.keyArn().lastIndexOf('/') + 1);
        Key key = keys.key(keyId).filter(k -> k.arn().equals(h.keyArn()))
                .orElseThrow(() -> new SealedBlobException("the KMS key of this blob no longer exists"));
        if (!key.state().equals("Enabled")) {
            throw new SealedBlobException("the KMS key " + key.arn() + " is " + key.state());
        }
        CiphertextBlob wrapped = CiphertextBlob.parse(h.wrappedKey()).orElseThrow(() -> new SealedBlobException("the wrapped data key is malformed"));
        byte[] dataKey = keys.decrypt(wrapped, key, context)
                .orElseThrow(() -> new SealedBlobException("the data key does not open under this key and encryption context"));
        try {
            AesGcmHkdfStreaming aead = new AesGcmHkdfStreaming(dataKey, "HmacSha256", 32, segmentSize(fixed.get(MAGIC.length)), 0);
            return aead.newSeekableDecryptingChannel(new OffsetChannel(source, prefix.length), associatedData(prefix, context));
        } catch (GeneralSecurityException e) {
            throw new SealedBlobException("the sealed blob does not open: " + e.getMessage());
        } finally {
            java.util.Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** Reads the header of a sealed blob's first bytes; empty when it is not one. Every length is checked before it is used. */
    public static Optional<Header> parseHeader(byte[] prefix) {
        if (prefix == null || prefix.length < MAGIC.length + 3 + 4) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(prefix);
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC) || segmentSize(b.get()) == 0) {
            return Optional.empty();
        }
        int headerLength = b.getShort() & 0xffff;
        if (headerLength > MAX_HEADER || b.remaining() < headerLength) {
            return Optional.empty();
        }
        int end = b.position() + headerLength;
        int arnLength = b.getShort() & 0xffff;
        if (arnLength < 1 || arnLength > 2048 || end - b.position() < arnLength + 2) {
            return Optional.empty();
        }
        byte[] arn = new byte[arnLength];
        b.get(arn);
        int wrappedLength = b.getShort() & 0xffff;
        if (wrappedLength < 1 || wrappedLength > CiphertextBlob.MAX_BLOB || end - b.position() != wrappedLength) {
            return Optional.empty();
        }
        byte[] wrapped = new byte[wrappedLength];
        b.get(wrapped);
        String keyArn = new String(arn, StandardCharsets.UTF_8);
        if (!keyArn.startsWith("arn:aws:kms:") || !keyArn.contains(":key/")) {
            return Optional.empty();
        }
        return Optional.of(new Header(keyArn, wrapped, end));
    }

    private static byte[] prefix(String keyArn, byte[] wrapped, byte version) {
        byte[] arn = keyArn.getBytes(StandardCharsets.UTF_8);
        int headerLength = 2 + arn.length + 2 + wrapped.length;
        return ByteBuffer.allocate(MAGIC.length + 3 + headerLength).put(MAGIC).put(version).putShort((short) headerLength)
                .putShort((short) arn.length).put(arn).putShort((short) wrapped.length).put(wrapped).array();
    }

    private static byte[] associatedData(byte[] prefix, Map<String, String> context) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(AAD_PREFIX);
        out.writeBytes(prefix);
        for (Map.Entry<String, String> e : new TreeMap<>(context).entrySet()) {
            for (String s : new String[] {e.getKey(), e.getValue()}) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                out.write(b.length >>> 8);
                out.write(b.length);
                out.writeBytes(b);
            }
        }
        return out.toByteArray();
    }

    private static void readFully(SeekableByteChannel source, ByteBuffer into) throws IOException {
        while (into.hasRemaining()) {
            if (source.read(into) < 0) {
                throw new SealedBlobException("the sealed blob is truncated");
            }
        }
        into.flip();
    }

    /** A view of a channel from an offset on, so the stream's position 0 is its first byte. */
    private static final class OffsetChannel implements SeekableByteChannel {
        private final SeekableByteChannel inner;
        private final long offset;

        OffsetChannel(SeekableByteChannel inner, long offset) throws IOException {
            this.inner = inner;
            this.offset = offset;
            inner.position(offset);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return inner.read(dst);
        }

        @Override
        public int write(ByteBuffer src) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public long position() throws IOException {
            return inner.position() - offset;
        }

        @Override
        public SeekableByteChannel position(long newPosition) throws IOException {
            inner.position(newPosition + offset);
            return this;
        }

        @Override
        public long size() throws IOException {
            return inner.size() - offset;
        }

        @Override
        public SeekableByteChannel truncate(long size) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public boolean isOpen() {
            return inner.isOpen();
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
