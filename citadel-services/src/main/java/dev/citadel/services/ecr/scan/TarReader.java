package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A streaming reader of one tar archive (an image layer), written for untrusted input: it never
 * seeks, never allocates more than {@link #MAX_META_BYTES} for a header record, and skips the data
 * of entries the caller does not read.
 *
 * <p>Layout: a sequence of 512-byte header blocks, each followed by its data padded to a multiple
 * of 512; the archive ends at the first all-zero block (or at end of stream after one, or in the
 * padding of its last entry: see {@link #skipRest}). A ustar
 * header holds {@code name[100]} at 0, {@code mode[8]} at 100, {@code size[12]} at 124 (octal
 * ASCII, or GNU base-256 when the first byte has its high bit set), {@code chksum[8]} at 148 (the
 * sum of the header's bytes with this field read as spaces), {@code typeflag} at 156,
 * {@code linkname[100]} at 157, {@code magic} "ustar" at 257 and {@code prefix[155]} at 345 (joined
 * to the name with a slash). Two kinds of header record change the next entry: a pax extended
 * header (type {@code x}; records {@code "<len> <key>=<value>\n"}, of which {@code path},
 * {@code linkpath} and {@code size} are honoured; type {@code g} is read and ignored) and the GNU
 * long name and long link name (types {@code L} and {@code K}, whose data is the name).
 *
 * <p>Limits: a header record's data (pax, long name) at most {@link #MAX_META_BYTES}; entry sizes
 * non-negative and at most {@link #MAX_ENTRY_SIZE}; at most {@code maxEntries} entries; a bad
 * checksum, a negative size or a truncated archive is an {@link IOException}. Paths are normalised
 * by {@link #normalise}: an entry whose path escapes the root ({@code ..}) or is longer than
 * {@link #MAX_PATH_LENGTH} is reported with {@link Entry#path()} empty, so the caller skips it.
 */
final class TarReader {
    static final int BLOCK = 512;
    static final int MAX_META_BYTES = 1 << 20;
    static final int MAX_PATH_LENGTH = 4096;
    static final long MAX_ENTRY_SIZE = 1L << 40;

    /** What an entry is; everything that is not a file, directory or link is {@code OTHER}. */
    enum Type {
        FILE, DIRECTORY, SYMLINK, HARDLINK, OTHER
    }

    /**
     * One entry. {@code path} is normalised (no leading slash, no {@code .} components) and empty
     * when the entry's path cannot be used; {@code linkTarget} is the raw link name of a link.
     */
    record Entry(String path, Type type, long size, String linkTarget) {
        Entry {
            requireNonNull(path, "path is null");
            requireNonNull(type, "type is null");
            requireNonNull(linkTarget, "linkTarget is null");
        }
    }

    private final InputStream in;
    private final int maxEntries;
    private final byte[] header = new byte[BLOCK];
    private int entries;
    private long remaining;
    private long padding;
    private boolean ended;

    TarReader(InputStream in, int maxEntries) {
        this.in = requireNonNull(in, "in is null");
        this.maxEntries = maxEntries;
    }

    /** The next entry, or empty at the end of the archive; the unread data of the previous one is skipped. */
    Optional<Entry> next() throws IOException {
        if (ended) {
            return Optional.empty();
        }
        skipRest();
        if (ended) {
            return Optional.empty();
        }
        String longName = null;
        String longLink = null;
        String paxPath = null;
        String paxLink = null;
        long paxSize = -1;
        while (true) {
            if (!readHeader()) {
                ended = true;
                return Optional.empty();
            }
            if (++entries > maxEntries) {
                throw new IOException("more than " + maxEntries + " entries");
            }
            char type = (char) (header[156] & 0xff);
            long size = size();
            switch (type) {
                case 'x' -> {
                    Pax pax = parsePax(readMeta(size));
                    paxPath = pax.path != null ? pax.path : paxPath;
                    paxLink = pax.linkPath != null ? pax.linkPath : paxLink;
                    paxSize = pax.size >= 0 ? pax.size : paxSize;
                }
                case 'g' -> parsePax(readMeta(size));
                case 'L' -> longName = cString(readMeta(size));
                case 'K' -> longLink = cString(readMeta(size));
                default -> {
                    if (paxSize >= 0) {
                        size = paxSize;
                    }
                    String name = paxPath != null ? paxPath : longName != null ? longName : ustarName();
                    String link = paxLink != null ? paxLink : longLink != null ? longLink : field(157, 100);
                    Type t = switch (type) {
                        case '0', '\0', '7' -> Type.FILE;
                        case '1' -> Type.HARDLINK;
                        case '2' -> Type.SYMLINK;
                        case '5' -> Type.DIRECTORY;
                        default -> Type.OTHER;
                    };
                    if (type == '1' || type == '2' || type == '3' || type == '4' || type == '5' || type == '6') {
                        // header-only types carry no data whatever their size field says (as Go's archive/tar, which
                        // wrote most image layers, reads them)
                        size = 0;
                    }
                    if (t == Type.FILE && name.endsWith("/")) {
                        t = Type.DIRECTORY; // pre-POSIX archives mark directories by a trailing slash
                    }
                    remaining = size;
                    padding = pad(size);
                    return Optional.of(new Entry(normalise(name).orElse(""), t, size, link));
                }
            }
        }
    }

    /** The current entry's data; reading past its size returns end of stream. Closing it does nothing. */
    InputStream content() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining <= 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, remaining));
                if (n < 0) {
                    throw new EOFException("tar entry truncated");
                }
                remaining -= n;
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                long k = Math.min(n, remaining);
                in.skipNBytes(k);
                remaining -= k;
                return k;
            }
        };
    }

    /**
     * The archive path as a path below the image root: leading slashes and {@code .} components
     * dropped, repeated slashes collapsed; empty if it names the root itself, contains a
     * {@code ..} component or a NUL, or is longer than {@link #MAX_PATH_LENGTH}.
     */
    static Optional<String> normalise(String raw) {
        if (raw.length() > MAX_PATH_LENGTH || raw.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        StringBuilder out = new StringBuilder(raw.length());
        for (String part : raw.split("/", -1)) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                return Optional.empty();
            }
            if (!out.isEmpty()) {
                out.append('/');
            }
            out.append(part);
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(out.toString());
    }

    /**
     * Skips the current entry's unread data, which must all be there, and its padding. A stream
     * that ends in the padding of its last entry ends the archive: umoci 0.4's {@code insert} writes
     * layers without the last padding and the end-of-archive blocks, and Go's readers (umoci, runc's
     * image tools) accept them.
     */
    private void skipRest() throws IOException {
        try {
            in.skipNBytes(remaining);
        } catch (EOFException e) {
            throw new EOFException("tar entry truncated");
        }
        remaining = 0;
        long pad = padding;
        padding = 0;
        for (long skipped = 0; skipped < pad; skipped++) {
            if (in.read() < 0) {
                ended = true;
                return;
            }
        }
    }

    /** Reads the next header block; false at the end of the archive. */
    private boolean readHeader() throws IOException {
        int n = in.readNBytes(header, 0, BLOCK);
        if (n == 0) {
            return false; // no end-of-archive blocks: tolerated, as GNU tar does
        }
        if (n < BLOCK) {
            throw new EOFException("tar header truncated");
        }
        boolean zero = true;
        for (byte b : header) {
            if (b != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return false;
        }
        verifyChecksum();
        return true;
    }

    private void verifyChecksum() throws IOException {
        long stored = octal(148, 8);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw new IOException("tar header checksum mismatch");
        }
    }

    private long size() throws IOException {
        long size;
        if ((header[124] & 0x80) != 0) {
            if ((header[124] & 0x40) != 0) {
                throw new IOException("negative tar entry size");
            }
            size = header[124] & 0x3f;
            for (int i = 125; i < 136; i++) {
                if (size > (MAX_ENTRY_SIZE >> 8)) {
                    throw new IOException("tar entry size too large");
                }
                size = (size << 8) | (header[i] & 0xff);
            }
        } else {
            size = octal(124, 12);
        }
        if (size < 0 || size > MAX_ENTRY_SIZE) {
            throw new IOException("tar entry size out of range");
        }
        return size;
    }

    /** An octal field: leading spaces, digits, then NUL or space; an all-NUL field is 0. */
    private long octal(int off, int len) throws IOException {
        int i = off;
        int end = off + len;
        while (i < end && header[i] == ' ') {
            i++;
        }
        long v = 0;
        int digits = 0;
        for (; i < end; i++) {
            byte b = header[i];
            if (b == 0 || b == ' ') {
                break;
            }
            if (b < '0' || b > '7') {
                throw new IOException("bad octal number in tar header");
            }
            if (++digits > 21) {
                throw new IOException("octal number too long in tar header");
            }
            v = (v << 3) | (b - '0');
        }
        return v;
    }

    private String ustarName() {
        String name = field(0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
        // the prefix field exists in POSIX ustar only; GNU's "ustar  " header uses those bytes for times
        if (ustar && header[262] == 0) {
            String prefix = field(345, 155);
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private String field(int off, int len) {
        int end = off;
        while (end < off + len && header[end] != 0) {
            end++;
        }
        return new String(header, off, end - off, StandardCharsets.UTF_8);
    }

    private byte[] readMeta(long size) throws IOException {
        if (size > MAX_META_BYTES) {
            throw new IOException("tar extended header larger than " + MAX_META_BYTES + " bytes");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new EOFException("tar extended header truncated");
        }
        in.skipNBytes(pad(size));
        return data;
    }

    private static long pad(long size) {
        return (BLOCK - size % BLOCK) % BLOCK;
    }

    private static String cString(byte[] data) {
        int end = 0;
        while (end < data.length && data[end] != 0) {
            end++;
        }
        return new String(data, 0, end, StandardCharsets.UTF_8);
    }

    private record Pax(String path, String linkPath, long size) {
    }

    /** Pax records: {@code "<decimal length> <key>=<value>\n"}, the length counting the whole record. */
    private static Pax parsePax(byte[] data) throws IOException {
        String path = null;
        String link = null;
        long size = -1;
        int i = 0;
        while (i < data.length) {
            if (data[i] == 0) {
                break; // some writers pad the record area with NULs
            }
            int space = i;
            long len = 0;
            while (space < data.length && data[space] != ' ') {
                byte b = data[space];
                if (b < '0' || b > '9' || space - i > 9) {
                    throw new IOException("bad pax record length");
                }
                len = len * 10 + (b - '0');
                space++;
            }
            if (space >= data.length || len <= space - i + 1 || i + len > data.length || data[(int) (i + len - 1)] != '\n') {
                throw new IOException("bad pax record");
            }
            String record = new String(data, space + 1, (int) (i + len - 1 - (space + 1)), StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq <= 0) {
                throw new IOException("bad pax record");
            }
            String key = record.substring(0, eq);
            String value = record.substring(eq + 1);
            switch (key) {
                case "path" -> path = value;
                case "linkpath" -> link = value;
                case "size" -> {
                    if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        throw new IOException("bad pax size");
                    }
                    size = Long.parseLong(value);
                    if (size > MAX_ENTRY_SIZE) {
                        throw new IOException("tar entry size out of range");
                    }
                }
                default -> {
                    // other keys (mtime, uid, xattrs, …) do not matter to an inventory
                }
            }
            i += (int) len;
        }
        return new Pax(path, link, size);
    }
}
