package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.backup.BackupManifest;
import dev.citadel.server.keys.AesGcmSecretSealer;
import dev.citadel.server.keys.RootKeyFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * What {@code citadel restore} refuses, each before it writes anything: a changed byte in any
 * file, a changed manifest, a missing file, an unfinished backup, a non-empty target, a missing or
 * wrong root key, a schema newer than this build's; and what {@code citadel backup} refuses. The
 * backup is of a stopped server with an object in a bucket (BackupRestoreAcceptanceTest takes one
 * while the server runs and restores it). The keys are files here whatever the run, so it runs once.
 */
@Tag("runs-once")
class RestoreRefusalTest {
    private static TestServer server;
    private static Path work;
    private static Path backup;
    private static Path rootKey;

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new CitadelMain());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void backUpAStoppedServer() throws IOException {
        server = TestServer.start("root-key.provider=file");
        ClientEnvironment.Result put = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n",
                "import boto3",
                "s3 = boto3.client('s3')",
                "s3.create_bucket(Bucket='refusals')",
                "s3.put_object(Bucket='refusals', Key='one', Body=b'kept in a backup' * 1000)")));
        assertThat(put.exitCode()).as(put.stderr()).isZero();
        server.stop();
        work = Files.createTempDirectory("citadel-restore-refusals-");
        backup = work.resolve("backup");
        rootKey = server.dataDir().resolve("keys/root.key");
        Run taken = cli("backup", "--data-dir", server.dataDir().toString(), "--set", "root-key.provider=file", "--to", backup.toString());
        assertThat(taken.exitCode()).as(taken.err()).isZero();
        assertThat(taken.out()).containsPattern("[1-9][0-9]* object blobs").contains("the root key is not in the backup: keep " + rootKey);
        assertThat(backup.resolve("keys")).doesNotExist();
    }

    @AfterAll
    static void remove() throws IOException {
        server.close();
        delete(work);
    }

    private static void delete(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** A copy of the backup to damage, permissions kept. */
    private Path copyOfBackup() throws IOException {
        Path copy = dir.resolve("backup-copy");
        try (Stream<Path> walk = Files.walk(backup)) {
            for (Path p : walk.toList()) {
                Files.copy(p, copy.resolve(backup.relativize(p).toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return copy;
    }

    private static String blobPath(Path backupDir) throws IOException {
        try (Stream<Path> walk = Files.walk(backupDir.resolve("objects"))) {
            return backupDir.relativize(walk.filter(Files::isRegularFile).findFirst().orElseThrow()).toString();
        }
    }

    private Run restore(Path from, Path target, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("restore", "--from", from.toString(), "--data-dir", target.toString(), "--set",
                "root-key.provider=file"));
        args.addAll(List.of(more));
        return cli(args.toArray(String[]::new));
    }

    @Test
    void aChangedByteInAnyFileIsRefusedBeforeAnythingIsWritten() throws IOException {
        Path copy = copyOfBackup();
        for (String file : List.of("metadata/citadel.db", blobPath(copy), "audit/events.jsonl", "client/credentials.sealed", "tls/ca-key.pem.sealed")) {
            Path f = copy.resolve(file);
            byte[] original = Files.readAllBytes(f);
            byte[] changed = original.clone();
            changed[changed.length / 2] ^= 0x01;
            Files.write(f, changed);
            Path target = dir.resolve("restored");
            Run r = restore(copy, target, "--root-key", rootKey.toString());
            assertThat(r.exitCode()).as(file).isEqualTo(1);
            assertThat(r.err()).as(file).contains(file + " does not match its SHA-256 in the manifest").contains("nothing was restored");
            assertThat(target).as(file).doesNotExist();
            Files.write(f, original);
        }
        assertThat(restore(copy, dir.resolve("restored"), "--root-key", rootKey.toString()).exitCode()).isZero();
    }

    @Test
    void aChangedManifestIsRefused() throws Exception {
        Path copy = copyOfBackup();
        Path manifest = copy.resolve("manifest.json");
        String json = Files.readString(manifest);
        // A consistent change (the file and its listed digest both replaced) needs the root key to seal the new manifest.
        Path blob = copy.resolve(blobPath(copy));
        Files.writeString(blob, "replaced");
        String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest("replaced".getBytes()));
        String entry = copy.relativize(blob).toString();
        String changed = json.replaceAll("(\"path\" : \"" + entry + "\",\\s*\"size\" : )\\d+(,\\s*\"sha256\" : \")[0-9a-f]{64}", "$18$2" + digest);
        assertThat(changed).isNotEqualTo(json);
        Files.writeString(manifest, changed);
        Path target = dir.resolve("restored");
        Run r = restore(copy, target, "--root-key", rootKey.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("manifest.json was changed after the backup was made");
        assertThat(target).doesNotExist();
    }

    @Test
    void aMissingFileAndAnUnfinishedBackupAreRefused() throws IOException {
        Path copy = copyOfBackup();
        String blob = blobPath(copy);
        Files.delete(copy.resolve(blob));
        Path target = dir.resolve("restored");
        Run missing = restore(copy, target, "--root-key", rootKey.toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains(blob + " is missing from the backup");
        assertThat(target).doesNotExist();

        Files.delete(copy.resolve("manifest.seal"));
        Run unfinished = restore(copy, target, "--root-key", rootKey.toString());
        assertThat(unfinished.exitCode()).isEqualTo(1);
        assertThat(unfinished.err()).contains("it is not a Citadel backup, or one that did not finish");
        assertThat(target).doesNotExist();
    }

    @Test
    void aNonEmptyTargetIsRefusedAndLeftAsItWas() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectories(target);
        Files.writeString(target.resolve("keep.txt"), "mine");
        Run r = restore(backup, target, "--root-key", rootKey.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains(target + " is not empty");
        try (Stream<Path> files = Files.list(target)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("keep.txt");
        }
        assertThat(Files.readString(target.resolve("keep.txt"))).isEqualTo("mine");
    }

    @Test
    void aMissingRootKeyIsAClearErrorAndAnotherKeyIsRefused() throws IOException {
        Path target = dir.resolve("restored");
        Run missing = restore(backup, target);
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("the root key is missing").contains("--root-key FILE").contains("--include-root-key");
        assertThat(target).doesNotExist();

        Path other = dir.resolve("other.key");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.write(other, key);
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-------"));
        Run wrong = restore(backup, target, "--root-key", other.toString());
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.err()).contains("the root key does not open this backup's manifest.seal");
        assertThat(target).doesNotExist();
    }

    @Test
    void aBackupOfANewerSchemaIsRefused() throws IOException {
        Path copy = copyOfBackup();
        Path manifest = copy.resolve("manifest.json");
        String json = Files.readString(manifest).replaceFirst("\"schemaVersion\" : \\d+", "\"schemaVersion\" : 999")
                .replaceFirst("\"citadelVersion\" : \"[^\"]+\"", "\"citadelVersion\" : \"9.0.0\"");
        Files.writeString(manifest, json);
        SecretBytes key = RootKeyFile.load(rootKey);
        Files.write(copy.resolve("manifest.seal"), BackupManifest.seal(json.getBytes(StandardCharsets.UTF_8),
                new AesGcmSecretSealer(key, new SecureRandom())));
        Path target = dir.resolve("restored");
        Run r = restore(copy, target, "--root-key", rootKey.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("schema version 999, newer than this Citadel's").contains("restore it with Citadel 9.0.0 or newer");
        assertThat(target).doesNotExist();
    }

    @Test
    void aBackupWithItsRootKeyRestoresWithoutOneAndTheServerRefusesToStartWithoutIt() throws IOException {
        Path withKey = dir.resolve("with-key");
        Run taken = cli("backup", "--data-dir", server.dataDir().toString(), "--set", "root-key.provider=file", "--to", withKey.toString(),
                "--include-root-key");
        assertThat(taken.exitCode()).as(taken.err()).isZero();
        assertThat(taken.out()).contains("the root key is in the backup");
        assertThat(Files.readAllBytes(withKey.resolve("keys/root.key"))).isEqualTo(Files.readAllBytes(rootKey));

        Path target = dir.resolve("restored");
        Run restored = restore(withKey, target);
        assertThat(restored.exitCode()).as(restored.err()).isZero();
        assertThat(Files.readAllBytes(target.resolve("keys/root.key"))).isEqualTo(Files.readAllBytes(rootKey));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("keys/root.key")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rwx------");

        Files.delete(target.resolve("keys/root.key"));
        assertThatThrownBy(() -> Citadel.start(TestServer.config(target, "root-key.provider=file"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the root key file " + target.resolve("keys/root.key") + " is missing")
                .hasMessageContaining("put the data directory's root key back");
        assertThat(target.resolve("keys/root.key")).doesNotExist();
    }

    @Test
    void backupRefusesPostgresqlANonEmptyTargetAndATargetInsideTheDataDirectory() throws IOException {
        Path target = dir.resolve("b");
        Run postgres = cli("backup", "--data-dir", server.dataDir().toString(), "--set", "metadata.url=jdbc:postgresql://localhost:5432/citadel",
                "--to", target.toString());
        assertThat(postgres.exitCode()).isEqualTo(1);
        assertThat(postgres.err()).contains("embedded SQLite metadata store only").contains("pg_dump");
        assertThat(target).doesNotExist();

        Files.createDirectories(target);
        Files.writeString(target.resolve("x"), "x");
        Run occupied = cli("backup", "--data-dir", server.dataDir().toString(), "--set", "root-key.provider=file", "--to", target.toString());
        assertThat(occupied.exitCode()).isEqualTo(1);
        assertThat(occupied.err()).contains("is not an empty directory");
        try (Stream<Path> files = Files.list(target)) {
            assertThat(files.toList()).hasSize(1);
        }

        Run inside = cli("backup", "--data-dir", server.dataDir().toString(), "--set", "root-key.provider=file", "--to",
                server.dataDir().resolve("backup").toString());
        assertThat(inside.exitCode()).isEqualTo(1);
        assertThat(inside.err()).contains("must lie outside the data directory");
        assertThat(server.dataDir().resolve("backup")).doesNotExist();
    }

    @Test
    void aManifestNamesTheBuildThatWroteItAndTheSchemaOfItsCopy() throws IOException {
        BackupManifest manifest = BackupManifest.parse(Files.readAllBytes(backup.resolve("manifest.json")));
        assertThat(manifest.citadelVersion()).isEqualTo(CitadelVersion.current()).doesNotContain("${");
        assertThat(manifest.schemaVersion()).isEqualTo(dev.citadel.metadata.SqliteSnapshot.latestSchemaVersion());
        assertThat(manifest.rootKeyProvider()).isEqualTo("file");
        assertThat(cli("--version").out().strip()).isEqualTo("citadel " + CitadelVersion.current());
    }
}
