package dev.citadel.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootKeyFileTest {
    @TempDir
    Path dir;

    @Test
    void firstStartCreatesAnOwnerOnlyKeyThatLaterStartsReuse() throws Exception {
        Path file = dir.resolve("keys/root.key");
        SecretBytes first = RootKeyFile.loadOrCreate(file, new SecureRandom());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        assertThat(RootKeyFile.loadOrCreate(file, new SecureRandom()).sameAs(first)).isTrue();
        assertThat(first.toString()).doesNotContain(java.util.HexFormat.of().formatHex(first.revealBytes()));
    }

    @Test
    void keyReadableByOthersIsRefused() throws Exception {
        Path file = dir.resolve("root.key");
        RootKeyFile.loadOrCreate(file, new SecureRandom());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> RootKeyFile.loadOrCreate(file, new SecureRandom()))
                .hasMessageContaining("chmod 600");
    }

    @Test
    void keyOfWrongLengthIsRefused() throws Exception {
        Path file = dir.resolve("root.key");
        Files.write(file, new byte[16]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> RootKeyFile.loadOrCreate(file, new SecureRandom())).hasMessageContaining("exactly 32 bytes");
    }

    @Test
    void loadReadsAnExistingKeyAndNeverMakesOne() {
        Path file = dir.resolve("keys/root.key");
        assertThatThrownBy(() -> RootKeyFile.load(file)).hasMessageContaining("no root key file at " + file);
        assertThat(file.getParent()).doesNotExist();
        SecretBytes made = RootKeyFile.loadOrCreate(file, new SecureRandom());
        assertThat(RootKeyFile.load(file).sameAs(made)).isTrue();
    }
}
