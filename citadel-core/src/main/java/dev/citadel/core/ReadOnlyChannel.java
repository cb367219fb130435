package dev.citadel.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only {@link SeekableByteChannel}: the position, closing and the refusal of writes are
 * here; a subclass says how many bytes there are and reads at a position.
 */
public abstract class ReadOnlyChannel implements SeekableByteChannel {
    private long position;
    private boolean open = true;

    /**
     * Reads into {@code dst} from {@code at} (below {@link #size()}, with room in {@code dst});
     * returns how many bytes were read, at least one.
     */
    protected abstract int readAt(long at, ByteBuffer dst) throws IOException;

    /** Releases what the channel holds; called once, by the first {@link #close()}. */
    protected void release() throws IOException {
    }

    /** A channel over the bytes of an array (not copied). */
    public static ReadOnlyChannel of(byte[] data) {
        return new ReadOnlyChannel() {
            @Override
            protected int readAt(long at, ByteBuffer dst) {
                int n = (int) Math.min(dst.remaining(), data.length - at);
                dst.put(data, (int) at, n);
                return n;
            }

            @Override
            public long size() {
                return data.length;
            }
        };
    }

    @Override
    public final int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (position >= size()) {
            return -1;
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        int n = readAt(position, dst);
        position += n;
        return n;
    }

    @Override
    public final int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public final long position() throws IOException {
        ensureOpen();
        return position;
    }

    @Override
    public final SeekableByteChannel position(long newPosition) throws IOException {
        ensureOpen();
        if (newPosition < 0) {
            throw new IllegalArgumentException("negative position");
        }
        position = newPosition;
        return this;
    }

    @Override
    public final SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public final boolean isOpen() {
        return open;
    }

    @Override
    public final void close() throws IOException {
        if (open) {
            open = false;
            release();
        }
    }

    protected final void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }
}
