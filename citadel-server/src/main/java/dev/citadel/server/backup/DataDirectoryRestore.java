package dev.citadel.server.backup;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.SqliteSnapshot;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.fs.SecureFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code citadel restore}: a backup ({@link BackupManifest}) into a new data directory. Everything
 * is checked before the first byte is written: the targets are new or empty; the root key opens
 * manifest.seal and it matches manifest.json; the manifest parses, its format is known and its
 * schema version is not newer than this build's; every file it lists is a regular file of the
 * listed size and SHA-256, and every sealed file opens. Then the files are written (each digest
 * checked again as it is copied, in case the backup changed meanwhile), owner-only and fsynced;
 * if anything fails on the way, what was written is removed.
 *
 * <p>Where each file goes: {@code metadata/citadel.db} to the SQLite file the restored
 * configuration names (by default {@code <data-dir>/metadata/citadel.db}),
 * {@code audit/events.jsonl} to its {@code audit.log}, the rest under the data directory at the
 * same path, sealed files as their plaintext without {@code .sealed}, and the root key (given, or
 * from the backup) to {@code keys/root.key}. The server then starts on the directory as after a
 * stop: it migrates an older schema, turns the store back to WAL, and rewrites the client files.
 */
public final class DataDirectoryRestore {
    private DataDirectoryRestore() {
    }

    /** Where the backup is and what it is restored as: the configuration (the backup's own, with the target data directory). */
    public record Request(Path from, ServerConfig config) {
        public Request {
            requireNonNull(from, "from is null");
            requireNonNull(config, "config is null");
        }
    }

    /** The root key the restore uses: a sealer, and for a file root key its bytes (written to keys/root.key). */
    public record RootKey(SecretSealer sealer, Optional<SecretBytes> fileKey) {
        public RootKey {
            requireNonNull(sealer, "sealer is null");
            requireNonNull(fileKey, "fileKey is null");
        }
    }

    /** What was restored. */
    public record Result(Path dataDir, BackupManifest manifest, long bytes) {
    }

    /** The manifest of a backup directory as read, before anything is trusted: its bytes and its seal. */
    public record Unverified(byte[] json, byte[] seal) {
    }

    /** Reads manifest.json and manifest.seal, capped; a directory without them is not a backup or an unfinished one. */
    public static Unverified readManifest(Path from) {
        Path json = from.resolve(BackupManifest.MANIFEST);
        Path seal = from.resolve(BackupManifest.SEAL);
        if (!Files.isDirectory(from)) {
            throw new BackupException(from + " is not a directory; a backup is the directory citadel backup wrote");
        }
        if (!Files.isRegularFile(json, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(seal, LinkOption.NOFOLLOW_LINKS)) {
            throw new BackupException(from + " holds no " + BackupManifest.MANIFEST + " and " + BackupManifest.SEAL
                    + ": it is not a Citadel backup, or one that did not finish (a backup writes them last)");
        }
        try {
            return new Unverified(BackupFiles.readSmall(json, BackupManifest.MAX_MANIFEST_BYTES, BackupManifest.MANIFEST),
                    BackupFiles.readSmall(seal, BackupManifest.MAX_SEAL_BYTES, BackupManifest.SEAL));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + from, e);
        }
    }

    /**
     * Checks the targets of {@code config}: the data directory is missing or empty, and the
     * metadata file and audit log, where the configuration puts them outside it, do not exist.
     */
    public static void requireEmptyTargets(Path from, ServerConfig config) {
        DataDirectoryBackup.requireEmbedded(config);
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        Path source = from.toAbsolutePath().normalize();
        if (dataDir.startsWith(source) || source.startsWith(dataDir)) {
            throw new BackupException("the data directory " + dataDir + " and the backup " + source + " must not lie one inside the other");
        }
        try {
            if (Files.exists(dataDir, LinkOption.NOFOLLOW_LINKS)
                    && (!Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS) || !BackupFiles.isEmptyDirectory(dataDir))) {
                throw new BackupException(dataDir + " is not empty: a restore writes only into a new or empty data directory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dataDir, e);
        }
        for (Path p : List.of(config.metadata().sqliteFile(), config.auditLog())) {
            Path file = p.toAbsolutePath().normalize();
            if (!file.startsWith(dataDir) && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new BackupException("the restored configuration puts " + file + " outside the data directory, and it exists: "
                        + "a restore never overwrites a file");
            }
        }
    }

    /** Verifies the backup as the class comment says, then writes it; throws {@link BackupException} with nothing written on refusal. */
    public static Result restore(Request request, Unverified unverified, RootKey rootKey) {
        ServerConfig config = request.config();
        Path from = request.from().toAbsolutePath().normalize();
        requireEmptyTargets(from, config);
        BackupManifest.authenticate(unverified.json(), unverified.seal(), rootKey.sealer());
        BackupManifest manifest = BackupManifest.parse(unverified.json());
        int latest = SqliteSnapshot.latestSchemaVersion();
        if (manifest.schemaVersion() > latest) {
            throw new BackupException("this backup's metadata is at schema version " + manifest.schemaVersion() + ", newer than this Citadel's "
                    + latest + ": restore it with Citadel " + manifest.citadelVersion() + " or newer");
        }
        if (!manifest.rootKeyProvider().equals(config.rootKey().provider())) {
            throw new BackupException("this backup is sealed under a " + manifest.rootKeyProvider() + " root key, but the configuration names a "
                    + config.rootKey().provider() + " one");
        }
        Map<BackupManifest.Entry, Path> targets = targets(manifest, config);
        long bytes = verify(from, manifest, rootKey.sealer());
        write(from, config, targets, rootKey);
        return new Result(config.dataDir().toAbsolutePath().normalize(), manifest, bytes);
    }

    private static Map<BackupManifest.Entry, Path> targets(BackupManifest manifest, ServerConfig config) {
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        Map<BackupManifest.Entry, Path> out = new LinkedHashMap<>();
        for (BackupManifest.Entry e : manifest.files()) {
            Path target = switch (e.path()) {
                case BackupManifest.DATABASE -> config.metadata().sqliteFile().toAbsolutePath().normalize();
                case BackupManifest.AUDIT_LOG -> config.auditLog().toAbsolutePath().normalize();
                // The root key is written from the key in use, which opened the manifest.
                case BackupManifest.ROOT_KEY -> null;
                default -> dataDir.resolve(e.dataPath());
            };
            if (target != null) {
                out.put(e, target);
            }
        }
        return out;
    }

    /** Every listed file is a regular file of its size and SHA-256; sealed files open. Returns the bytes read. */
    private static long verify(Path from, BackupManifest manifest, SecretSealer rootKey) {
        long bytes = 0;
        for (BackupManifest.Entry e : manifest.files()) {
            Path file = from.resolve(e.path());
            try {
                if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    throw new BackupException(e.path() + " is missing from the backup (or is not a regular file); nothing was restored");
                }
                if (Files.size(file) != e.size()) {
                    throw new BackupException(e.path() + " is not the size the manifest gives: the backup is damaged; nothing was restored");
                }
                BackupFiles.Digest d = BackupFiles.digest(file);
                if (d.size() != e.size() || !d.sha256().equals(e.sha256())) {
                    throw new BackupException(e.path() + " does not match its SHA-256 in the manifest: the backup is damaged or was changed; "
                            + "nothing was restored");
                }
                if (e.sealed()) {
                    BackupManifest.unsealFile(BackupFiles.readSmall(file, BackupManifest.MAX_SEALED_BYTES, e.path()), e.path(), rootKey).destroy();
                }
            } catch (NoSuchFileException ex) {
                throw new BackupException(e.path() + " is missing from the backup; nothing was restored");
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot read " + file, ex);
            }
            bytes += e.size();
        }
        return bytes;
    }

    /** Writes a secret's bytes to a new owner-only file; the copy this takes is zeroed, and {@code secret} is destroyed. */
    private static void writeSecret(Path target, SecretBytes secret) throws IOException {
        byte[] bytes = secret.revealBytes();
        try {
            BackupFiles.write(target, bytes);
        } finally {
            java.util.Arrays.fill(bytes, (byte) 0);
            secret.destroy();
        }
    }

    private static void write(Path from, ServerConfig config, Map<BackupManifest.Entry, Path> targets, RootKey rootKey) {
        Path dataDir = config.dataDir().toAbsolutePath().normalize();
        boolean dataDirExisted = Files.exists(dataDir);
        List<Path> written = new ArrayList<>();
        List<Path> directories = new ArrayList<>();
        try {
            directories.addAll(BackupFiles.createDirectories(dataDir));
            SecureFiles.createPrivateDirectory(dataDir);
            for (Map.Entry<BackupManifest.Entry, Path> t : targets.entrySet()) {
                BackupManifest.Entry e = t.getKey();
                Path target = t.getValue();
                directories.addAll(BackupFiles.createDirectories(target.getParent()));
                Path source = from.resolve(e.path());
                if (e.sealed()) {
                    SecretBytes plain = BackupManifest.unsealFile(BackupFiles.readSmall(source, BackupManifest.MAX_SEALED_BYTES, e.path()),
                            e.path(), rootKey.sealer());
                    written.add(target);
                    writeSecret(target, plain);
                    continue;
                }
                written.add(target);
                BackupFiles.Digest d = BackupFiles.copy(source, target, Long.MAX_VALUE);
                if (d.size() != e.size() || !d.sha256().equals(e.sha256())) {
                    throw new BackupException(e.path() + " changed while it was restored: the backup is being modified; nothing was restored");
                }
            }
            if (rootKey.fileKey().isPresent()) {
                Path keyFile = dataDir.resolve(BackupManifest.ROOT_KEY);
                directories.addAll(BackupFiles.createDirectories(keyFile.getParent()));
                written.add(keyFile);
                writeSecret(keyFile, rootKey.fileKey().get());
            }
            for (Path target : written) {
                BackupFiles.syncDirectory(target.getParent());
            }
            BackupFiles.syncDirectory(dataDir);
        } catch (RuntimeException | IOException e) {
            for (Path p : written) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // The message below names the data directory; the operator removes the rest.
                }
            }
            if (dataDirExisted) {
                BackupFiles.deleteContents(dataDir);
            } else {
                BackupFiles.deleteTree(dataDir);
            }
            for (Path dir : directories.reversed()) {
                try {
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // Not empty: it held something before the restore.
                }
            }
            if (e instanceof BackupException b) {
                throw b;
            }
            throw new BackupException("the restore failed and what it wrote was removed: " + e.getMessage(), e);
        }
    }
}
