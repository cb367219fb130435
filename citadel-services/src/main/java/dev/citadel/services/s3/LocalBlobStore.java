package dev.citadel.services.s3;

import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.services.kms.SealedBlobs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The embedded store of object contents: each one a sealed blob ({@link SealedBlobs}) in its own
 * file under a directory, named by a random id (never by the object's key, so names and keys never
 * leak into the file system). Writes are durable before they return: the blob goes to a temporary
 * file in the same directory, is fsynced, renamed atomically into place, and the directory is
 * fsynced; a crash leaves either no blob or the whole blob, and {@link #recover} removes what an
 * interrupted write left behind. Reads decrypt only the segments a range touches.
 */
public final class LocalBlobStore implements BlobStore {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
    private static final String TEMP_SUFFIX = ".partial";

    private final Path root;
    private final SealedBlobs blobs;

    public LocalBlobStore(Path root, SealedBlobs blobs) {
        this.root = root;
        this.blobs = blobs;
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the object directory " + root, e);
        }
    }

    private Path path(String blobId) {
        if (!ID.matcher(blobId).matches()) {
            throw new IllegalArgumentException("not a blob id");
        }
        return root.resolve(blobId.substring(0, 2)).resolve(blobId);
    }

    @Override
    public Written write(InputStream plaintext, Key key, Map<String, String> context) throws IOException {
        String id = UUID.randomUUID().toString().replace("-", "");
        Path target = path(id);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve(id + TEMP_SUFFIX);
        MessageDigest md5 = digest("MD5");
        MessageDigest sha256 = digest("SHA-256");
        long length = 0;
        boolean done = false;
        try (FileChannel file = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            try (OutputStream sealed = blobs.seal(new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(file), 1 << 16) {
                @Override
                public void close() throws IOException {
                    flush();
                }
            }, key, context); InputStream in = new DigestInputStream(new DigestInputStream(plaintext, md5), sha256)) {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sealed.write(buffer, 0, n);
                    length += n;
                }
            }
            file.force(true);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(temp);
            throw new IOException("the object directory does not support atomic renames", e);
        }
        syncDirectory(dir);
        HexFormat hex = HexFormat.of();
        return new Written(id, length, hex.formatHex(md5.digest()), hex.formatHex(sha256.digest()));
    }

    @Override
    public SeekableByteChannel read(String blobId, Map<String, String> context) throws IOException {
        return blobs.open(FileChannel.open(path(blobId), StandardOpenOption.READ), context);
    }

    @Override
    public boolean exists(String blobId) {
        return Files.exists(path(blobId));
    }

    @Override
    public boolean delete(String blobId) throws IOException {
        Path p = path(blobId);
        boolean deleted = Files.deleteIfExists(p);
        if (deleted) {
            syncDirectory(p.getParent());
        }
        return deleted;
    }

    @Override
    public int recover() throws IOException {
        int removed = 0;
        if (!Files.isDirectory(root)) {
            return 0;
        }
        try (var dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (var files = Files.newDirectoryStream(dir, "*" + TEMP_SUFFIX)) {
                    for (Path f : files) {
                        Files.deleteIfExists(f);
                        removed++;
                    }
                }
            }
        }
        return removed;
    }

    @Override
    public java.util.List<String> ids() throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (var walk = Files.walk(root, 2)) {
            walk.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).filter(n -> ID.matcher(n).matches()).forEach(out::add);
        }
        return out;
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
