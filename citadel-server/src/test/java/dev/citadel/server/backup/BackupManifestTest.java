package dev.citadel.server.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.server.keys.AesGcmSecretSealer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackupManifestTest {
    private static final String SHA = "a".repeat(64);
    private static final SecureRandom RANDOM = new SecureRandom();

    private static SecretSealer key(int fill) {
        byte[] k = new byte[32];
        java.util.Arrays.fill(k, (byte) fill);
        return new AesGcmSecretSealer(SecretBytes.copyOf(k), RANDOM);
    }

    private static BackupManifest sample() {
        return new BackupManifest(1, "0.1.0-SNAPSHOT", Instant.parse("2026-03-01T10:00:00.123Z"), 20, "file", List.of(
                new BackupManifest.Entry("audit/events.jsonl", 10, SHA),
                new BackupManifest.Entry("client/credentials.sealed", 120, SHA),
                new BackupManifest.Entry("images/0f/0f0123456789abcdef0123456789abcd", 0, SHA),
                new BackupManifest.Entry("keys/root.key", 32, SHA),
                new BackupManifest.Entry("metadata/citadel.db", 4096, SHA),
                new BackupManifest.Entry("objects/ab/ab0123456789abcdef0123456789abcd", 1L << 40, SHA)));
    }

    private static String json(String files) {
        return """
                {"format": "citadel-backup", "formatVersion": 1, "citadelVersion": "0.1.0", "createdAt": "2026-03-01T10:00:00Z",
                 "schemaVersion": 20, "rootKeyProvider": "file", "files": [%s]}""".formatted(files);
    }

    private static String file(String path) {
        return "{\"path\": \"" + path + "\", \"size\": 1, \"sha256\": \"" + SHA + "\"}";
    }

    private static BackupManifest parse(String json) {
        return BackupManifest.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aManifestReadsBackAsWritten() {
        BackupManifest m = sample();
        assertThat(BackupManifest.parse(m.toJson())).isEqualTo(m);
        assertThat(new String(m.toJson(), StandardCharsets.UTF_8)).contains("\"format\" : \"citadel-backup\"").contains("\"schemaVersion\" : 20");
    }

    /** Found by the fuzzing campaign: bytes the JSON parser took for UTF-32 failed with an I/O error, not a refusal. */
    @Test
    void aManifestInAnotherEncodingThanUtf8IsRefused() {
        byte[] utf16 = new String(sample().toJson(), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_16BE);
        assertThatThrownBy(() -> BackupManifest.parse(utf16)).isInstanceOf(BackupException.class);
        byte[] utf32 = {0, 0, 0, 0, 0, 0, 0, 0, ',', ' ', '"', 'r', 'o', 0, ' ', 'K', 0, 'l', '"', ':', ','};
        assertThatThrownBy(() -> BackupManifest.parse(utf32)).isInstanceOf(BackupException.class);
        byte[] latin1 = "{\"format\": \"caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> BackupManifest.parse(latin1)).isInstanceOf(BackupException.class).hasMessageContaining("not UTF-8");
    }

    @Test
    void sealedEntriesRestoreAsTheirPlainName() {
        BackupManifest.Entry sealed = new BackupManifest.Entry("tls/server-key.pem.sealed", 1, SHA);
        assertThat(sealed.sealed()).isTrue();
        assertThat(sealed.dataPath()).isEqualTo("tls/server-key.pem");
        assertThat(new BackupManifest.Entry("tls/server.pem", 1, SHA).sealed()).isFalse();
    }

    @Test
    void onlyThePathsABackupHoldsAreAccepted() {
        assertThat(BackupManifest.isAllowedPath("marketplace/lst-0123456789abcdef0123.artifact")).isTrue();
        for (String bad : List.of("../etc/passwd", "/etc/passwd", "metadata/../../x", "objects/ab/cd0123456789abcdef0123456789abcd",
                "objects/ab/ab0123456789abcdef0123456789abc", "objects/ab/AB0123456789abcdef0123456789abcd", "objects/ab/ab0123456789abcdef0123456789abcd/x",
                "sandbox/runs/x", "tls/server-key.pem", "client/credentials", "client/config", "keys/other.key", "metadata/citadel.db-wal",
                "citadel.conf\\u0000", "", "marketplace/lst-0123.artifact", "marketplace/lst-0123456789ABCDEF0123.artifact",
                "marketplace/../keys/root.key", "marketplace/lst-0123456789abcdef0123.artifact/x", "marketplace/lst-0123456789abcdef0123")) {
            assertThatThrownBy(() -> parse(json(file("metadata/citadel.db") + ", " + file(bad)))).as(bad)
                    .isInstanceOf(BackupException.class).hasMessageContaining("never holds");
        }
    }

    @Test
    void malformedManifestsAreRefusedWithWhatIsWrong() {
        assertThatThrownBy(() -> parse(json(file("citadel.conf")))).hasMessageContaining("lists no metadata/citadel.db");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db") + ", " + file("metadata/citadel.db")))).hasMessageContaining("twice");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("\"schemaVersion\"", "\"extra\": 1, \"schemaVersion\"")))
                .hasMessageContaining("unknown field 'extra'");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("\"formatVersion\": 1,", "\"formatVersion\": 1, \"formatVersion\": 1,")))
                .hasMessageContaining("not well-formed JSON").hasMessageContaining("Duplicate field");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("\"formatVersion\": 1", "\"formatVersion\": 2")))
                .hasMessageContaining("format version 2").hasMessageContaining("Citadel that made it");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("citadel-backup", "something-else")))
                .hasMessageContaining("not a Citadel backup manifest");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db").replace("\"size\": 1", "\"size\": -1")))).hasMessageContaining("negative size");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db").replace("\"size\": 1", "\"size\": 1.5")))).hasMessageContaining("whole number");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db").replace("\"size\": 1", "\"size\": 99999999999999999999"))))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db").replace(SHA, SHA.toUpperCase())))).hasMessageContaining("malformed SHA-256");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")) + " {}")).hasMessageContaining("more than one JSON object");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("\"rootKeyProvider\": \"file\"", "\"rootKeyProvider\": \"pkcs11\"")
                .replace("[", "[" + file("keys/root.key") + ", "))).hasMessageContaining("PKCS#11");
        assertThatThrownBy(() -> parse(json(file("metadata/citadel.db")).replace("2026-03-01T10:00:00Z", "yesterday")))
                .hasMessageContaining("createdAt");
        assertThatThrownBy(() -> parse("[]")).isInstanceOf(BackupException.class);
        assertThatThrownBy(() -> parse("{\"format\": ")).hasMessageContaining("not well-formed JSON");
        assertThatThrownBy(() -> BackupManifest.parse(new byte[BackupManifest.MAX_MANIFEST_BYTES + 1])).hasMessageContaining("larger than");
    }

    @Test
    void theSealOpensOnlyUnderItsRootKeyAndOnlyForItsManifest() {
        byte[] json = sample().toJson();
        byte[] seal = BackupManifest.seal(json, key(1));
        BackupManifest.authenticate(json, seal, key(1));
        assertThatThrownBy(() -> BackupManifest.authenticate(json, seal, key(2))).isInstanceOf(BackupException.class)
                .hasMessageContaining("the root key does not open this backup's manifest.seal");
        byte[] changed = json.clone();
        changed[changed.length / 2] ^= 1;
        assertThatThrownBy(() -> BackupManifest.authenticate(changed, seal, key(1))).hasMessageContaining("was changed after the backup was made");
        byte[] flipped = seal.clone();
        flipped[flipped.length - 1] ^= 1;
        assertThatThrownBy(() -> BackupManifest.authenticate(json, flipped, key(1))).hasMessageContaining("does not open");
    }

    @Test
    void aSealedFileOpensOnlyAtItsOwnPath() {
        byte[] sealed = BackupManifest.sealFile("secret".getBytes(StandardCharsets.UTF_8), "tls/ca-key.pem.sealed", key(1));
        assertThat(BackupManifest.unsealFile(sealed, "tls/ca-key.pem.sealed", key(1)).revealUtf8()).isEqualTo("secret");
        assertThatThrownBy(() -> BackupManifest.unsealFile(sealed, "tls/server-key.pem.sealed", key(1))).hasMessageContaining("does not open");
        assertThatThrownBy(() -> BackupManifest.unsealFile(sealed, "tls/ca-key.pem.sealed", key(2))).hasMessageContaining("does not open");
    }
}
