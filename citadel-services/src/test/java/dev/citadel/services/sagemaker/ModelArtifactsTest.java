package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.AwsException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** model.tar.gz is unpacked as files and directories only, inside the model directory, within its bound. */
class ModelArtifactsTest {
    @TempDir
    Path dir;

    interface Entries {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    static byte[] archive(Entries entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(tar);
        }
        return bytes.toByteArray();
    }

    static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(b.length);
        tar.putArchiveEntry(e);
        tar.write(b);
        tar.closeArchiveEntry();
    }

    private Path unpack(byte[] archive, long max) throws IOException {
        Path file = dir.resolve("model.tar.gz");
        Files.write(file, archive);
        Path model = Files.createDirectories(dir.resolve("model"));
        ModelArtifacts.unpack(file, model, max);
        return model;
    }

    @Test
    void filesAndDirectoriesAreUnpacked() throws Exception {
        Path model = unpack(archive(tar -> {
            tar.putArchiveEntry(new TarArchiveEntry("./"));
            tar.closeArchiveEntry();
            file(tar, "./model.pkl", "weights");
            file(tar, "./code/inference.py", "print(1)");
        }), 1 << 20);
        assertThat(Files.readString(model.resolve("model.pkl"))).isEqualTo("weights");
        assertThat(Files.readString(model.resolve("code/inference.py"))).isEqualTo("print(1)");
    }

    @Test
    void linksTraversalAbsolutePathsAndExcessAreRefused() throws Exception {
        TarArchiveEntry link = new TarArchiveEntry("etc", TarArchiveEntry.LF_SYMLINK);
        link.setLinkName("/etc");
        assertThatThrownBy(() -> unpack(archive(tar -> {
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }), 1 << 20)).isInstanceOf(AwsException.class).hasMessageContaining("not a regular file or directory");
        Files.deleteIfExists(dir.resolve("model"));
        assertThatThrownBy(() -> unpack(archive(tar -> file(tar, "../outside", "x")), 1 << 20)).hasMessageContaining("leaves the model");
        assertThat(dir.resolve("outside")).doesNotExist();
        Files.deleteIfExists(dir.resolve("model"));
        // the archive reader drops a leading '/', as tar does: the file lands inside
        assertThat(unpack(archive(tar -> file(tar, "/abs", "x")), 1 << 20).resolve("abs")).hasContent("x");
        Files.delete(dir.resolve("model/abs"));
        Files.delete(dir.resolve("model"));
        assertThatThrownBy(() -> unpack(archive(tar -> file(tar, "big", "x".repeat(100))), 10)).hasMessageContaining("exceeds 10 bytes");
        Files.walk(dir.resolve("model")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        assertThatThrownBy(() -> unpack("not gzip".getBytes(StandardCharsets.UTF_8), 1 << 20)).hasMessageContaining("not a gzip'd tar");
    }
}
