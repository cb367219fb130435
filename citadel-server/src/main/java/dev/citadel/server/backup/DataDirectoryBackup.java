package dev.citadel.server.backup;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.Dialect;
import dev.citadel.metadata.SqliteSnapshot;
import dev.citadel.metadata.marketplace.MarketplaceRepository;
import dev.citadel.server.config.BlobStoreConfig;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.services.ecr.EcrService;
import dev.citadel.services.s3.S3Service;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * {@code citadel backup}: a consistent copy of an embedded data directory, taken while the server
 * runs or not, into a new directory laid out as {@link BackupManifest} describes.
 *
 * <p>The order is what makes it consistent. Citadel stores a blob (fsync, rename, directory fsync)
 * before the transaction that refers to it commits, and deletes a blob only after the transaction
 * that stopped referring to it committed. So:
 * <ol>
 *   <li>the metadata store is copied first, as one read transaction ({@link SqliteSnapshot});</li>
 *   <li>every blob that copy refers to (objects and image blobs) is copied after it; each exists,
 *       unless the server deleted it since the copy (an object overwritten or deleted meanwhile).
 *       Then the copy is taken again and only the blobs not yet copied are fetched, up to
 *       {@value #MAX_SNAPSHOTS} times; a blob the newer copy still refers to and that is still
 *       missing means a damaged data directory, and the backup fails saying so. Blobs no copy
 *       refers to are not copied; those the final copy no longer refers to are removed;</li>
 *   <li>the audit log is copied after the metadata, up to its last complete line, so that it is at
 *       least as long as the offsets the metadata holds for the event index and trail delivery;</li>
 *   <li>the configuration file, the local CA's certificates, and, sealed under the root key, the
 *       TLS private keys and the admin's client credentials; the root key file only when asked;</li>
 *   <li>manifest.json, then manifest.seal, last: a directory without them is an unfinished backup.</li>
 * </ol>
 * Nothing is decrypted: blobs and the store's secrets stay sealed as they are on the disk.
 */
public final class DataDirectoryBackup {
    static final int MAX_SNAPSHOTS = 5;
    private static final Pattern BLOB_ID = Pattern.compile("[0-9a-f]{32}");

    private DataDirectoryBackup() {
    }

    /** What a backup holds: where, the schema version, how many blobs and files, their bytes, and how many snapshots it took. */
    public record Result(Path directory, int schemaVersion, int objectBlobs, int imageBlobs, int files, long bytes, int snapshots,
            boolean rootKeyIncluded) {
    }

    /** What the backup takes and where it puts it. */
    public record Request(ServerConfig config, Optional<Path> configFile, Path target, Optional<Path> rootKeyFile, SecretSealer rootKey,
            String citadelVersion) {
        public Request {
            requireNonNull(config, "config is null");
            requireNonNull(configFile, "configFile is null");
            requireNonNull(target, "target is null");
            requireNonNull(rootKeyFile, "rootKeyFile is null");
            requireNonNull(rootKey, "rootKey is null");
            requireNonNull(citadelVersion, "citadelVersion is null");
        }
    }

    /** Refuses what this command cannot back up: a PostgreSQL store or remote blobs (see docs/BACKUP.md). */
    public static void requireEmbedded(ServerConfig config) {
        if (config.metadata().dialect() != Dialect.SQLITE) {
            throw new BackupException("citadel backup copies the embedded SQLite metadata store only; this configuration keeps metadata in "
                    + "PostgreSQL (metadata.url). Back that database up with PostgreSQL's own tools (pg_dump, or base backups with WAL "
                    + "archiving), see docs/BACKUP.md");
        }
        if (config.blobStore() instanceof BlobStoreConfig.Remote) {
            throw new BackupException("citadel backup copies a local blob store only; this configuration keeps object contents in an "
                    + "S3-compatible service (s3.blob-store = remote). Protect that bucket with the service's own versioning or replication, "
                    + "see docs/BACKUP.md");
        }
    }

    /** Takes the backup; on failure removes what it wrote and throws {@link BackupException} (or an I/O error). */
    public static Result take(Request request, Clock clock) {
        return take(request, clock, snapshot -> {
        });
    }

    /** {@link #take}, calling {@code afterSnapshot} with the number of each metadata copy once it is taken (tests race it). */
    static Result take(Request request, Clock clock, java.util.function.IntConsumer afterSnapshot) {
        requireNonNull(clock, "clock is null");
        ServerConfig config = request.config();
        requireEmbedded(config);
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        Path target = request.target().toAbsolutePath().normalize();
        Path database = config.metadata().sqliteFile().toAbsolutePath().normalize();
        if (!Files.isRegularFile(database)) {
            throw new BackupException("no metadata store at " + database + ": is " + dataDir + " a Citadel data directory?");
        }
        if (target.startsWith(dataDir) || dataDir.startsWith(target)) {
            throw new BackupException("the backup directory " + target + " must lie outside the data directory " + dataDir);
        }
        boolean created;
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS) || !BackupFiles.isEmptyDirectory(target)) {
                    throw new BackupException(target + " exists and is not an empty directory; a backup goes into a new one");
                }
                created = false;
            } else {
                created = true;
            }
            BackupFiles.createDirectories(target);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the backup directory " + target, e);
        }
        try {
            return write(request, clock, dataDir, database, target, afterSnapshot);
        } catch (RuntimeException e) {
            clean(target, created);
            throw e;
        } catch (IOException e) {
            clean(target, created);
            throw new UncheckedIOException("the backup failed and was removed: " + e.getMessage(), e);
        }
    }

    private static void clean(Path target, boolean created) {
        if (created) {
            BackupFiles.deleteTree(target);
        } else {
            BackupFiles.deleteContents(target);
        }
    }

    private static Result write(Request request, Clock clock, Path dataDir, Path database, Path target, java.util.function.IntConsumer afterSnapshot)
            throws IOException {
        ServerConfig config = request.config();
        int latest = SqliteSnapshot.latestSchemaVersion();
        Path snapshot = target.resolve(BackupManifest.DATABASE);
        BackupFiles.createDirectories(snapshot.getParent());

        Map<String, BackupFiles.Digest> blobs = new TreeMap<>();
        Set<String> referenced;
        Set<String> missingBefore = Set.of();
        Instant takenAt;
        int schemaVersion;
        int snapshots = 0;
        int objectBlobs;
        int imageBlobs;
        while (true) {
            snapshots++;
            Files.deleteIfExists(snapshot);
            takenAt = clock.instant();
            schemaVersion = SqliteSnapshot.take(database, snapshot);
            afterSnapshot.accept(snapshots);
            if (schemaVersion != latest) {
                throw new BackupException("the metadata store is at schema version " + schemaVersion + " and this Citadel's is " + latest
                        + ": back it up with the build of Citadel that serves it");
            }
            List<Set<String>> ids = SqliteSnapshot.read(snapshot, h -> List.of(S3Service.referencedBlobs(h), EcrService.referencedBlobs(h),
                    new MarketplaceRepository(h).activeArtifactListingIds()));
            referenced = new TreeSet<>();
            referenced.addAll(blobPaths("objects", ids.get(0)));
            referenced.addAll(blobPaths("images", ids.get(1)));
            for (String listing : ids.get(2)) {
                referenced.add("marketplace/" + listing + ".artifact");
            }
            objectBlobs = ids.get(0).size();
            imageBlobs = ids.get(1).size();
            List<String> missing = new ArrayList<>();
            for (String path : referenced) {
                if (blobs.containsKey(path)) {
                    continue;
                }
                try {
                    blobs.put(path, BackupFiles.copy(dataDir.resolve(path), target.resolve(path), Long.MAX_VALUE));
                } catch (NoSuchFileException e) {
                    missing.add(path);
                }
            }
            if (missing.isEmpty()) {
                break;
            }
            List<String> stillMissing = missing.stream().filter(missingBefore::contains).toList();
            if (!stillMissing.isEmpty()) {
                throw new BackupException("the metadata store refers to " + stillMissing.size() + " blob(s) that are not in the data directory "
                        + "(the first: " + stillMissing.getFirst() + "): the data directory is damaged, and a backup of it would be too");
            }
            if (snapshots == MAX_SNAPSHOTS) {
                throw new BackupException("blobs were deleted faster than " + MAX_SNAPSHOTS + " snapshots could copy them; try again when the "
                        + "server is less busy, or stop it for the backup");
            }
            missingBefore = Set.copyOf(missing);
        }
        for (String path : List.copyOf(blobs.keySet())) {
            if (!referenced.contains(path)) {
                Files.delete(target.resolve(path));
                blobs.remove(path);
            }
        }

        List<BackupManifest.Entry> entries = new ArrayList<>();
        blobs.forEach((path, d) -> entries.add(new BackupManifest.Entry(path, d.size(), d.sha256())));
        Path auditLog = config.auditLog();
        if (Files.exists(auditLog)) {
            // After the metadata copy, and only whole lines: the log is at least as long as any offset that copy records.
            long end = BackupFiles.endOfLastLine(auditLog, Files.size(auditLog));
            entries.add(entry(BackupManifest.AUDIT_LOG, BackupFiles.copy(auditLog, target.resolve(BackupManifest.AUDIT_LOG), end)));
        }
        if (request.configFile().isPresent()) {
            entries.add(entry(BackupManifest.CONFIG, BackupFiles.copy(request.configFile().get(), target.resolve(BackupManifest.CONFIG),
                    Long.MAX_VALUE)));
        }
        for (String name : List.of("tls/ca.pem", "tls/server.pem")) {
            Path file = dataDir.resolve(name);
            if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                entries.add(entry(name, BackupFiles.copy(file, target.resolve(name), Long.MAX_VALUE)));
            }
        }
        for (String name : List.of("tls/ca-key.pem", "tls/server-key.pem", "client/credentials")) {
            Path file = dataDir.resolve(name);
            if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                String path = name + BackupManifest.SEALED_SUFFIX;
                byte[] plaintext = BackupFiles.readSmall(file, BackupManifest.MAX_SEALED_BYTES, name);
                try {
                    entries.add(entry(path, BackupFiles.write(target.resolve(path), BackupManifest.sealFile(plaintext, path, request.rootKey()))));
                } finally {
                    java.util.Arrays.fill(plaintext, (byte) 0);
                }
            }
        }
        if (request.rootKeyFile().isPresent()) {
            if (!config.rootKey().provider().equals("file")) {
                throw new BackupException("the root key is in a PKCS#11 token and never leaves it; --include-root-key applies to a root key file");
            }
            entries.add(entry(BackupManifest.ROOT_KEY, BackupFiles.copy(request.rootKeyFile().get(), target.resolve(BackupManifest.ROOT_KEY),
                    Long.MAX_VALUE)));
        }
        entries.add(entry(BackupManifest.DATABASE, BackupFiles.digest(snapshot)));
        entries.sort(java.util.Comparator.comparing(BackupManifest.Entry::path));

        BackupManifest manifest = new BackupManifest(BackupManifest.FORMAT_VERSION, request.citadelVersion(), takenAt, schemaVersion,
                config.rootKey().provider(), entries);
        byte[] json = manifest.toJson();
        BackupFiles.write(target.resolve(BackupManifest.MANIFEST), json);
        syncDirectories(target);
        BackupFiles.write(target.resolve(BackupManifest.SEAL), BackupManifest.seal(json, request.rootKey()));
        BackupFiles.syncDirectory(target);
        long bytes = entries.stream().mapToLong(BackupManifest.Entry::size).sum();
        return new Result(target, schemaVersion, objectBlobs, imageBlobs, entries.size(), bytes, snapshots, request.rootKeyFile().isPresent());
    }

    private static BackupManifest.Entry entry(String path, BackupFiles.Digest d) {
        return new BackupManifest.Entry(path, d.size(), d.sha256());
    }

    private static List<String> blobPaths(String store, Set<String> ids) {
        List<String> out = new ArrayList<>(ids.size());
        for (String id : ids) {
            if (!BLOB_ID.matcher(id).matches()) {
                throw new BackupException("the metadata store refers to a blob id that is not a local blob store's; was it written with "
                        + "s3.blob-store = remote?");
            }
            out.add(store + "/" + id.substring(0, 2) + "/" + id);
        }
        return out;
    }

    /** Every directory of the backup, deepest first, then the backup itself: the files' names are durable before the manifest is. */
    private static void syncDirectories(Path target) throws IOException {
        try (var walk = Files.walk(target)) {
            for (Path dir : walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted(java.util.Comparator.reverseOrder()).toList()) {
                BackupFiles.syncDirectory(dir);
            }
        }
    }
}
