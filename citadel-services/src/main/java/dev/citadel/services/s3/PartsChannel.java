package dev.citadel.services.s3;

import dev.citadel.core.ReadOnlyChannel;
import dev.citadel.metadata.s3.S3Repository.StoredPart;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.Arrays;
import java.util.List;

/**
 * The contents of a multipart object as one read-only channel over its parts' sealed blobs, in
 * order. A part is opened when a read reaches it (one at a time), so a range touches only the
 * parts and, within them, the segments it covers.
 */
final class PartsChannel extends ReadOnlyChannel {
    /** Opens one part's plaintext. */
    interface Opener {
        SeekableByteChannel open(StoredPart part) throws IOException;
    }

    private final List<StoredPart> parts;
    private final Opener opener;
    private final long[] starts;
    private final long size;
    private int current = -1;
    private SeekableByteChannel channel;

    PartsChannel(List<StoredPart> parts, Opener opener) {
        this.parts = List.copyOf(parts);
        this.opener = opener;
        this.starts = new long[parts.size()];
        long at = 0;
        for (int i = 0; i < parts.size(); i++) {
            starts[i] = at;
            at += parts.get(i).size();
        }
        this.size = at;
    }

    /** The last part starting at or before {@code at} (reading skips on past empty parts). */
    private int partAt(long at) {
        int i = Arrays.binarySearch(starts, at);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    protected int readAt(long position, ByteBuffer dst) throws IOException {
        int i = partAt(position);
        while (position - starts[i] >= parts.get(i).size()) {
            i++;
        }
        long within = position - starts[i];
        if (i != current) {
            release();
            channel = opener.open(parts.get(i));
            current = i;
            channel.position(within);
        } else if (channel.position() != within) {
            channel.position(within);
        }
        long left = parts.get(i).size() - within;
        int limit = dst.limit();
        if (dst.remaining() > left) {
            dst.limit(dst.position() + (int) left);
        }
        int n;
        try {
            n = channel.read(dst);
        } finally {
            dst.limit(limit);
        }
        if (n <= 0) {
            throw new IOException("part " + parts.get(i).partNumber() + " ended before its recorded size");
        }
        return n;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    protected void release() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
            current = -1;
        }
    }
}
