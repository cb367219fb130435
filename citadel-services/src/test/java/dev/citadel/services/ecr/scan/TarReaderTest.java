package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarReaderTest {
    private static final String LONG = "usr/lib/python3/dist-packages/" + "a-very-long-directory-name/".repeat(5) + "pkg-1.0.dist-info/METADATA";

    record Read(String path, TarReader.Type type, String content, String link) {
    }

    static List<Read> readAll(byte[] archive) throws IOException {
        TarReader r = new TarReader(new ByteArrayInputStream(archive), 1000);
        List<Read> out = new ArrayList<>();
        for (Optional<TarReader.Entry> e = r.next(); e.isPresent(); e = r.next()) {
            String content = new String(r.content().readAllBytes(), StandardCharsets.UTF_8);
            out.add(new Read(e.get().path(), e.get().type(), content, e.get().linkTarget()));
        }
        return out;
    }

    @Test
    void readsFilesDirectoriesLinksAndLongNamesOfBothKinds() throws IOException {
        for (TestTar tar : List.of(TestTar.create(), TestTar.create().gnu())) {
            byte[] archive = tar.dir("./etc").file("./etc/os-release", "ID=debian\n").symlink("etc/link", "../usr/lib/os-release")
                    .hardlink("etc/hard", "etc/os-release").file(LONG, "Name: pkg\n").bytes();
            assertThat(readAll(archive)).containsExactly(
                    new Read("etc", TarReader.Type.DIRECTORY, "", ""),
                    new Read("etc/os-release", TarReader.Type.FILE, "ID=debian\n", ""),
                    new Read("etc/link", TarReader.Type.SYMLINK, "", "../usr/lib/os-release"),
                    new Read("etc/hard", TarReader.Type.HARDLINK, "", "etc/os-release"),
                    new Read(LONG, TarReader.Type.FILE, "Name: pkg\n", ""));
        }
    }

    @Test
    void unreadDataIsSkippedAndPartlyReadDataToo() throws IOException {
        byte[] archive = TestTar.create().file("a", "x".repeat(1500)).file("b", "second").bytes();
        TarReader r = new TarReader(new ByteArrayInputStream(archive), 10);
        assertThat(r.next().orElseThrow().path()).isEqualTo("a");
        assertThat(r.content().readNBytes(10)).hasSize(10);
        assertThat(r.next().orElseThrow().path()).isEqualTo("b");
        assertThat(new String(r.content().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("second");
        assertThat(r.next()).isEmpty();
        assertThat(r.next()).isEmpty();
    }

    @Test
    void pathsThatEscapeTheRootAreReportedEmpty() throws IOException {
        byte[] archive = TestTar.create().file("../etc/passwd", "x").file("/var/../../x", "y").file("/./var//lib/./f", "z").bytes();
        assertThat(readAll(archive)).extracting(Read::path).containsExactly("", "", "var/lib/f");
    }

    @Test
    void normaliseDropsDotsAndLeadingSlashesAndRefusesDotDotNulAndOverlongPaths() {
        assertThat(TarReader.normalise("./usr//lib/./x/")).contains("usr/lib/x");
        assertThat(TarReader.normalise("/")).isEmpty();
        assertThat(TarReader.normalise("a/../b")).isEmpty();
        assertThat(TarReader.normalise("a\0b")).isEmpty();
        assertThat(TarReader.normalise("a/".repeat(3000))).isEmpty();
        assertThat(TarReader.normalise("..a/b..")).contains("..a/b..");
    }

    @Test
    void paxSizeOverridesTheHeaderAndBase256SizesAreRead() throws IOException {
        byte[] pax = TestTar.paxRecord("size", "5");
        byte[] archive = TestTar.create().file("PaxHeaders/x", pax).file("f", "hello").bytes();
        archive[156] = 'x';
        fixChecksum(archive, 0);
        // the pax record says 5, the file's own header says 5 as well; set the header to a wrong size to see which wins
        int fileHeader = 1024;
        System.arraycopy("00000000077\0".getBytes(StandardCharsets.US_ASCII), 0, archive, fileHeader + 124, 12);
        fixChecksum(archive, fileHeader);
        assertThat(readAll(archive)).containsExactly(new Read("f", TarReader.Type.FILE, "hello", ""));

        byte[] b256 = TestTar.create().file("g", "abc").bytes();
        byte[] size = new byte[12];
        size[0] = (byte) 0x80;
        size[11] = 3;
        System.arraycopy(size, 0, b256, 124, 12);
        fixChecksum(b256, 0);
        assertThat(readAll(b256)).containsExactly(new Read("g", TarReader.Type.FILE, "abc", ""));
    }

    @Test
    void badChecksumsNegativeSizesTruncationAndTooManyEntriesAreErrors() throws IOException {
        byte[] archive = TestTar.create().file("f", "data").bytes();
        archive[0] = 'g';
        assertThatThrownBy(() -> readAll(archive)).isInstanceOf(IOException.class).hasMessageContaining("checksum");

        byte[] negative = TestTar.create().file("f", "data").bytes();
        negative[124] = (byte) 0xff;
        fixChecksum(negative, 0);
        assertThatThrownBy(() -> readAll(negative)).isInstanceOf(IOException.class).hasMessageContaining("negative");

        byte[] whole = TestTar.create().file("f", "x".repeat(2000)).bytes();
        byte[] truncated = java.util.Arrays.copyOf(whole, 1000);
        assertThatThrownBy(() -> readAll(truncated)).isInstanceOf(EOFException.class);

        byte[] many = TestTar.create().file("a", "").file("b", "").file("c", "").bytes();
        TarReader r = new TarReader(new ByteArrayInputStream(many), 2);
        r.next();
        r.next();
        assertThatThrownBy(r::next).isInstanceOf(IOException.class).hasMessageContaining("more than 2 entries");

        byte[] bigPax = TestTar.create().file("PaxHeaders/x", new byte[TarReader.MAX_META_BYTES + 1]).bytes();
        bigPax[156] = 'x';
        fixChecksum(bigPax, 0);
        assertThatThrownBy(() -> readAll(bigPax)).isInstanceOf(IOException.class).hasMessageContaining("extended header larger");
    }

    /** umoci 0.4's insert ends a layer right after its last entry's data, with no padding and no end-of-archive blocks. */
    @Test
    void anArchiveEndingInItsLastEntrysPaddingReadsWhole() throws IOException {
        byte[] whole = TestTar.create().dir("usr").file("usr/train", "x".repeat(1965)).bytes();
        byte[] cut = java.util.Arrays.copyOf(whole, 512 + 512 + 1965);
        assertThat(readAll(cut)).extracting(Read::path).containsExactly("usr", "usr/train");
        // Unread: the data is skipped, and the missing padding still ends the archive.
        TarReader r = new TarReader(new ByteArrayInputStream(cut), 10);
        assertThat(r.next()).isPresent();
        assertThat(r.next()).isPresent();
        assertThat(r.next()).isEmpty();
        // But data itself cut short is an error, read or skipped.
        byte[] short_ = java.util.Arrays.copyOf(whole, 512 + 512 + 1000);
        TarReader skipping = new TarReader(new ByteArrayInputStream(short_), 10);
        skipping.next();
        skipping.next();
        assertThatThrownBy(skipping::next).isInstanceOf(EOFException.class).hasMessageContaining("truncated");
    }

    /** What GNU tar writes, in both of its long-name formats, reads back entry for entry. */
    @Test
    void readsWhatGnuTarWrites(@TempDir Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path deep = Files.createDirectories(root.resolve(LONG).getParent());
        Files.writeString(deep.resolve("METADATA"), "Name: pkg\nVersion: 1.0\n");
        Files.writeString(Files.createDirectories(root.resolve("etc")).resolve("os-release"), "ID=debian\n");
        Files.createSymbolicLink(root.resolve("etc/link"), Path.of("os-release"));
        for (String format : List.of("gnu", "pax", "ustar")) {
            Path out = dir.resolve(format + ".tar");
            Process p = new ProcessBuilder("tar", "--format=" + format, "-C", root.toString(), "-cf", out.toString(), ".")
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            if (format.equals("ustar")) {
                continue; // ustar cannot hold the long path (GNU tar refuses it); it is only written to see tar run
            }
            assertThat(p.exitValue()).as(log + " (install GNU tar: apt-get install tar)").isZero();
            List<Read> entries = readAll(Files.readAllBytes(out));
            assertThat(entries).as(format).contains(new Read(LONG, TarReader.Type.FILE, "Name: pkg\nVersion: 1.0\n", ""),
                    new Read("etc/os-release", TarReader.Type.FILE, "ID=debian\n", ""),
                    new Read("etc/link", TarReader.Type.SYMLINK, "", "os-release"));
        }
    }

    static void fixChecksum(byte[] archive, int offset) {
        for (int i = 148; i < 156; i++) {
            archive[offset + i] = ' ';
        }
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += archive[offset + i] & 0xff;
        }
        byte[] s = String.format("%06o\0", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, archive, offset + 148, s.length);
    }
}
