package dev.citadel.services.sagemaker;

import dev.citadel.core.AwsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a model.tar.gz into the directory a serving container sees as {@code /opt/ml/model}.
 * The archive comes from whoever trained the model (possibly another party's image): only
 * regular files and directories are written, every name must stay inside the directory, no
 * link is made or followed, and the whole is bounded in entries and bytes. Citadel unpacks it as
 * root, so this is the line between an archive and the host's files.
 */
final class ModelArtifacts {
    static final int MAX_ENTRIES = 100_000;

    private ModelArtifacts() {
    }

    /** Unpacks {@code archive} (gzip'd tar) into {@code dir}, which must exist and be empty; at most {@code maxBytes} of content. */
    static void unpack(Path archive, Path dir, long maxBytes) throws IOException {
        long total = 0;
        int entries = 0;
        try (InputStream file = Files.newInputStream(archive);
                TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(new java.io.BufferedInputStream(file)))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (++entries > MAX_ENTRIES) {
                    throw refused("it has more than " + MAX_ENTRIES + " entries");
                }
                Path target = inside(dir, e.getName());
                if (target == null) {
                    continue; // "." or "./"
                }
                if (e.isSymbolicLink() || e.isLink() || e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                    throw refused("it holds " + printable(e.getName()) + ", which is not a regular file or directory (links and devices "
                            + "are not unpacked)");
                }
                if (e.isDirectory()) {
                    createDirectories(dir, target);
                } else if (e.isFile()) {
                    createDirectories(dir, target.getParent());
                    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                        throw refused("it names " + printable(e.getName()) + " twice");
                    }
                    try (OutputStream out = Files.newOutputStream(target, java.nio.file.StandardOpenOption.CREATE_NEW)) {
                        byte[] buf = new byte[1 << 16];
                        for (int n; (n = tar.read(buf)) > 0; ) {
                            total += n;
                            if (total > maxBytes) {
                                throw refused("its content exceeds " + maxBytes + " bytes");
                            }
                            out.write(buf, 0, n);
                        }
                    }
                } else {
                    throw refused("it holds " + printable(e.getName()) + ", which is not a regular file or directory (links and devices "
                            + "are not unpacked)");
                }
            }
        } catch (AwsException ex) {
            throw ex;
        } catch (IOException ex) {
            if (ex instanceof java.nio.file.FileSystemException) {
                throw refused("it does not fit the endpoint's volume");
            }
            throw refused("it is not a gzip'd tar archive");
        }
    }

    /** The path an entry names under {@code dir}, or null for the directory itself; refused if it would leave it. */
    private static Path inside(Path dir, String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        if (n.isEmpty() || n.equals(".")) {
            return null;
        }
        if (n.startsWith("/") || n.contains("\0") || n.length() > 4096) {
            throw refused("it names " + printable(name) + ", which is not a relative path");
        }
        for (String segment : n.split("/")) {
            if (segment.equals("..")) {
                throw refused("it names " + printable(name) + ", which leaves the model directory");
            }
        }
        Path p = dir.resolve(n).normalize();
        if (!p.startsWith(dir) || p.equals(dir)) {
            throw refused("it names " + printable(name) + ", which leaves the model directory");
        }
        return p;
    }

    /** Creates the directories down to {@code target}, refusing to pass through anything but a real directory. */
    private static void createDirectories(Path dir, Path target) throws IOException {
        Path p = dir;
        for (Path segment : dir.relativize(target)) {
            p = p.resolve(segment);
            if (Files.isSymbolicLink(p) || (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                throw refused("a directory in it is also a file");
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
            }
        }
    }

    private static AwsException refused(String why) {
        return new AwsException("ClientError", 400, "ClientError: the model artifact cannot be unpacked: " + why + ".");
    }

    private static String printable(String s) {
        return JobRequests.printable(s);
    }
}
