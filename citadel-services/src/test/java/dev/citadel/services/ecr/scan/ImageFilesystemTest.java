package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class ImageFilesystemTest {
    private static final String STATUS = "var/lib/dpkg/status";

    static ImageFilesystem read(TestTar... layers) throws ImageScanException {
        return ImageFilesystem.read(java.util.Arrays.stream(layers).map(TestTar::layer).toList(), ImageFilesystem.DEFAULT_LIMITS);
    }

    static Optional<String> text(ImageFilesystem fs, String path) {
        return fs.file(path).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    @Test
    void keepsOnlyWhatAnInventoryNeeds() throws ImageScanException {
        ImageFilesystem fs = read(TestTar.create().file(STATUS, "Package: a\n").file("etc/passwd", "root:x:0:0")
                .file("usr/bin/ls", new byte[4096]).file("var/lib/dpkg/status.d/base", "Package: b\n")
                .file("var/lib/dpkg/status.d/base.md5sums", "x").file("lib/apk/db/installed", "P:c\n"));
        assertThat(text(fs, STATUS)).contains("Package: a\n");
        assertThat(fs.file("etc/passwd")).isEmpty();
        assertThat(fs.file("usr/bin/ls")).isEmpty();
        assertThat(fs.files(ImageFilesystem.Kind.DPKG_STATUS_PART)).containsOnlyKeys("var/lib/dpkg/status.d/base");
        assertThat(text(fs, "lib/apk/db/installed")).contains("P:c\n");
    }

    @Test
    void upperLayersReplaceAndWhiteoutsDeleteWhatLowerLayersHad() throws ImageScanException {
        String meta = "usr/lib/python3/site-packages/requests-2.0.dist-info/METADATA";
        String other = "usr/lib/python3/site-packages/six-1.0.dist-info/METADATA";
        ImageFilesystem fs = read(
                TestTar.create().file(STATUS, "old").file(meta, "Name: requests\n").file(other, "Name: six\n")
                        .file("opt/app/lib/a.jar", TestTar.jar(new String[] {"g:a:1"})),
                TestTar.create().file(STATUS, "new").whiteout("usr/lib/python3/site-packages/requests-2.0.dist-info")
                        .opaque("opt/app"),
                TestTar.create().file(other, "Name: six\nVersion: 2\n"));
        assertThat(text(fs, STATUS)).contains("new");
        assertThat(fs.file(meta)).isEmpty();
        assertThat(text(fs, other)).contains("Name: six\nVersion: 2\n");
        assertThat(fs.jars()).isEmpty();
    }

    @Test
    void whiteoutsInALayerDoNotDeleteThatLayersOwnFiles() throws ImageScanException {
        ImageFilesystem fs = read(TestTar.create().file(STATUS, "lower"),
                TestTar.create().file(STATUS, "upper").opaque("var/lib/dpkg").whiteout(STATUS));
        assertThat(text(fs, STATUS)).contains("upper");
        ImageFilesystem root = read(TestTar.create().file(STATUS, "lower").file("etc/os-release", "ID=x"), TestTar.create().opaque(""));
        assertThat(root.file(STATUS)).isEmpty();
    }

    @Test
    void aSymlinkOrADirectoryReplacesAFileAndAFileReplacesADirectory() throws ImageScanException {
        ImageFilesystem fs = read(
                TestTar.create().file(STATUS, "a").file("var/lib/dpkg/status.d/x", "b").file("lib/apk/db/installed", "c"),
                TestTar.create().symlink(STATUS, "/etc/passwd").file("var/lib/dpkg/status.d", "now a file").dir("lib/apk/db/installed"));
        assertThat(fs.file(STATUS)).isEmpty();
        assertThat(fs.files(ImageFilesystem.Kind.DPKG_STATUS_PART)).isEmpty();
        assertThat(fs.file("lib/apk/db/installed")).isEmpty();
    }

    @Test
    void osReleaseSymlinksResolveInsideTheRootOnly() throws ImageScanException {
        ImageFilesystem fs = read(TestTar.create().file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .symlink("etc/os-release", "../../../../usr/lib/os-release"));
        assertThat(text(fs, "etc/os-release")).contains("ID=debian\nVERSION_ID=\"12\"\n");
        ImageFilesystem loop = read(TestTar.create().symlink("etc/os-release", "os-release"));
        assertThat(loop.file("etc/os-release")).isEmpty();
        assertThat(ImageFilesystem.resolve("etc/os-release", "/usr/lib/os-release")).isEqualTo("usr/lib/os-release");
        assertThat(ImageFilesystem.resolve("etc/os-release", "../../../x")).isEqualTo("x");
    }

    @Test
    void jarsArePomPropertiesIncludingThoseOfNestedJars() throws ImageScanException {
        byte[] inner = TestTar.jar(new String[] {"org.apache.logging.log4j:log4j-core:2.14.1"});
        byte[] fat = TestTar.jar(new String[] {"com.example:app:1.0"}, inner);
        ImageFilesystem fs = read(TestTar.create().file("app/app.jar", fat).file("app/broken.jar", "not a zip at all"));
        Map<String, ImageFilesystem.Jar> jars = fs.jars();
        assertThat(jars).containsOnlyKeys("app/app.jar", "app/broken.jar");
        assertThat(jars.get("app/app.jar").pomProperties()).extracting(b -> new String(b, StandardCharsets.UTF_8))
                .anySatisfy(s -> assertThat(s).contains("artifactId=app"))
                .anySatisfy(s -> assertThat(s).contains("artifactId=log4j-core"));
        assertThat(jars.get("app/broken.jar").pomProperties()).isEmpty();
    }

    @Test
    void dpkgFileListsKeepOnlyLanguagePackageLinesAndPythonMetadataOnlyItsHeader() throws ImageScanException {
        ImageFilesystem fs = read(TestTar.create()
                .file("var/lib/dpkg/info/python3-six.list", "/.\n/usr\n/usr/lib/python3/dist-packages/six-1.16.0.egg-info\n"
                        + "/usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO\n/usr/lib/python3/dist-packages/six.py\n")
                .file("usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO", "Name: six\nVersion: 1.16.0\n\nlong description\n"));
        assertThat(fs.files(ImageFilesystem.Kind.DPKG_LIST).values()).singleElement()
                .extracting(b -> new String(b, StandardCharsets.UTF_8))
                .isEqualTo("usr/lib/python3/dist-packages/six-1.16.0.egg-info\nusr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO");
        assertThat(text(fs, "usr/lib/python3/dist-packages/six-1.16.0.egg-info/PKG-INFO")).contains("Name: six\nVersion: 1.16.0\n");
    }

    @Test
    void filesOverTheirLimitAreSkippedWithAWarningAndTotalsAreEnforced() throws ImageScanException {
        ImageFilesystem.Limits small = new ImageFilesystem.Limits(4, 100, 10, 30, 5, 1 << 20, 1 << 20);
        ImageFilesystem fs = ImageFilesystem.read(List.of(TestTar.create().file(STATUS, "x".repeat(11)).layer()), small);
        assertThat(fs.file(STATUS)).isEmpty();
        assertThat(fs.warnings()).singleElement().asString().contains(STATUS);

        List<Supplier<InputStream>> tooMuch = List.of(TestTar.create().file(STATUS, "x".repeat(10)).file("lib/apk/db/installed", "y".repeat(10))
                .file("usr/lib/apk/db/installed", "z".repeat(10)).file("etc/os-release", "w".repeat(10)).layer());
        assertThatThrownBy(() -> ImageFilesystem.read(tooMuch, small)).isInstanceOf(ImageScanException.class)
                .hasMessageContaining("layer 1").hasMessageContaining("exceeds 30 bytes");
        assertThatThrownBy(() -> ImageFilesystem.read(java.util.Collections.nCopies(5, TestTar.create().layer()), small))
                .isInstanceOf(ImageScanException.class).hasMessageContaining("5 layers");
    }

    @Test
    void plainTarIsReadAndZstdOrGarbageIsRefusedNamingTheLayer() throws ImageScanException {
        ImageFilesystem plain = ImageFilesystem.read(List.of(TestTar.layer(TestTar.create().file(STATUS, "p").bytes())),
                ImageFilesystem.DEFAULT_LIMITS);
        assertThat(text(plain, STATUS)).contains("p");
        byte[] zstd = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0};
        assertThatThrownBy(() -> ImageFilesystem.read(List.of(TestTar.create().layer(), TestTar.layer(zstd)), ImageFilesystem.DEFAULT_LIMITS))
                .isInstanceOf(ImageScanException.class).hasMessage("layer 2: zstd-compressed layers are not supported by the scanner");
        byte[] garbage = "this is not a tar archive, and it is longer than one block? no".repeat(10).getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ImageFilesystem.read(List.of(TestTar.layer(garbage)), ImageFilesystem.DEFAULT_LIMITS))
                .isInstanceOf(ImageScanException.class).hasMessageStartingWith("layer 1 is not a readable tar archive");
    }
}
