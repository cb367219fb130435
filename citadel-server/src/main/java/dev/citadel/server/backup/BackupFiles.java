package dev.citadel.server.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The file moves of backups and restores: owner-only directories ({@code 0700}) and files
 * ({@code 0600}) created new (never over an existing one), streamed with their SHA-256 computed on
 * the way and fsynced before they count; symbolic links are never followed out of a backup.
 */
final class BackupFiles {
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_FILE = PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_DIRECTORY = PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------"));
    private static final int BUFFER = 1 << 20;

    private BackupFiles() {
    }

    /** What was written or read: a length and its SHA-256 in lower-case hex. */
    record Digest(long size, String sha256) {
    }

    /** Creates the missing directories of {@code dir} owner-only; returns the ones it created, outermost first. */
    static List<Path> createDirectories(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.addFirst(p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, OWNER_DIRECTORY);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(p)) {
                    throw e;
                }
            }
        }
        return missing;
    }

    /**
     * Copies the first {@code limit} bytes of {@code from} (all of it when it is shorter) into the new
     * file {@code to}, fsynced; throws {@link NoSuchFileException} when {@code from} does not exist.
     */
    static Digest copy(Path from, Path to, long limit) throws IOException {
        createDirectories(to.getParent());
        MessageDigest sha256 = BackupManifest.sha256();
        long size = 0;
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                FileChannel out = FileChannel.open(to, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), OWNER_FILE)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
            while (size < limit) {
                buffer.clear().limit((int) Math.min(BUFFER, limit - size));
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                sha256.update(buffer.array(), 0, n);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                size += n;
            }
            out.force(true);
        }
        return new Digest(size, HexFormat.of().formatHex(sha256.digest()));
    }

    /** Writes {@code bytes} to the new file {@code to}, fsynced. */
    static Digest write(Path to, byte[] bytes) throws IOException {
        createDirectories(to.getParent());
        try (FileChannel out = FileChannel.open(to, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), OWNER_FILE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            out.force(true);
        }
        return new Digest(bytes.length, HexFormat.of().formatHex(BackupManifest.sha256(bytes)));
    }

    /** The length and SHA-256 of a regular file (not a link), read to its end. */
    static Digest digest(Path file) throws IOException {
        MessageDigest sha256 = BackupManifest.sha256();
        long size = 0;
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
            int n;
            while ((n = in.read(buffer.clear())) >= 0) {
                sha256.update(buffer.array(), 0, n);
                size += n;
            }
        }
        return new Digest(size, HexFormat.of().formatHex(sha256.digest()));
    }

    /** Reads a small regular file (not a link) whole, refusing one over {@code max} bytes. */
    static byte[] readSmall(Path file, int max, String name) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (in.size() > max) {
                throw new BackupException(name + " is larger than " + max + " bytes");
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) in.size());
            while (buffer.hasRemaining()) {
                if (in.read(buffer) < 0) {
                    throw new BackupException(name + " became shorter while it was read");
                }
            }
            return buffer.array();
        }
    }

    /** The length of the longest prefix of {@code file}'s first {@code size} bytes that ends with a line feed (0 when none). */
    static long endOfLastLine(Path file, long size) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            long end = size;
            while (end > 0) {
                long start = Math.max(0, end - buffer.capacity());
                buffer.clear().limit((int) (end - start));
                long at = start;
                while (buffer.hasRemaining()) {
                    int n = in.read(buffer, at);
                    if (n < 0) {
                        throw new IOException(file + " became shorter while it was read");
                    }
                    at += n;
                }
                for (int i = (int) (end - start) - 1; i >= 0; i--) {
                    if (buffer.get(i) == '\n') {
                        return start + i + 1;
                    }
                }
                end = start;
            }
            return 0;
        }
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Whether {@code dir} is a directory with nothing in it. */
    static boolean isEmptyDirectory(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    /** Deletes {@code dir} and everything under it, never following links; quietly, for clean-up after a failure. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // What is left is named by the caller's message; nothing else can be done here.
        }
    }

    /** Deletes everything inside {@code dir}, keeping {@code dir} itself. */
    static void deleteContents(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            entries.toList().forEach(BackupFiles::deleteTree);
        } catch (IOException e) {
            // As in deleteTree.
        }
    }
}
