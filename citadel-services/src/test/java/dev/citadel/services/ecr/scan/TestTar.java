package dev.citadel.services.ecr.scan;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes small tar archives (ustar, with pax records or GNU long names for long paths) and jars for the scanner's tests. */
final class TestTar {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private boolean gnuLongNames;

    static TestTar create() {
        return new TestTar();
    }

    /** Long names as GNU {@code ././@LongLink} records instead of pax {@code path} records. */
    TestTar gnu() {
        gnuLongNames = true;
        return this;
    }

    TestTar file(String path, String content) {
        return file(path, content.getBytes(StandardCharsets.UTF_8));
    }

    TestTar file(String path, byte[] content) {
        entry(path, '0', content, "");
        return this;
    }

    TestTar dir(String path) {
        entry(path.endsWith("/") ? path : path + "/", '5', new byte[0], "");
        return this;
    }

    TestTar symlink(String path, String target) {
        entry(path, '2', new byte[0], target);
        return this;
    }

    TestTar hardlink(String path, String target) {
        entry(path, '1', new byte[0], target);
        return this;
    }

    /** A whiteout of {@code path} (the file {@code .wh.<name>} beside it). */
    TestTar whiteout(String path) {
        int slash = path.lastIndexOf('/');
        return file(path.substring(0, slash + 1) + ".wh." + path.substring(slash + 1), "");
    }

    TestTar opaque(String dir) {
        return file(dir + "/.wh..wh..opq", "");
    }

    byte[] bytes() {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        copy.writeBytes(out.toByteArray());
        copy.writeBytes(new byte[1024]);
        return copy.toByteArray();
    }

    byte[] gzipped() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    Supplier<InputStream> layer() {
        byte[] b = gzipped();
        return () -> new ByteArrayInputStream(b);
    }

    static Supplier<InputStream> layer(byte[] bytes) {
        return () -> new ByteArrayInputStream(bytes);
    }

    private void entry(String path, char type, byte[] content, String link) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length > 100) {
            if (gnuLongNames) {
                byte[] data = (path + "\0").getBytes(StandardCharsets.UTF_8);
                header("././@LongLink", 'L', data.length, "");
                data(data);
            } else {
                byte[] data = paxRecord("path", path);
                header("PaxHeaders/x", 'x', data.length, "");
                data(data);
            }
            path = path.substring(0, 100);
        }
        header(path, type, content.length, link);
        data(content);
    }

    static byte[] paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.length();
        int digits = String.valueOf(len).length();
        while (String.valueOf(len + digits).length() != digits) {
            digits++;
        }
        return ((len + digits) + body).getBytes(StandardCharsets.UTF_8);
    }

    private void header(String path, char type, long size, String link) {
        byte[] h = new byte[512];
        put(h, 0, path, 100);
        put(h, 100, "0000644", 8);
        put(h, 108, "0000000", 8);
        put(h, 116, "0000000", 8);
        put(h, 124, String.format("%011o", size), 12);
        put(h, 136, "00000000000", 12);
        h[156] = (byte) type;
        put(h, 157, link, 100);
        put(h, 257, "ustar", 6);
        h[263] = '0';
        h[264] = '0';
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum), 7);
        out.writeBytes(h);
    }

    private void data(byte[] content) {
        out.writeBytes(content);
        int pad = (512 - content.length % 512) % 512;
        out.writeBytes(new byte[pad]);
    }

    private static void put(byte[] h, int off, String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(b.length, max));
    }

    /** A jar holding one pom.properties per {@code group:artifact:version}, and the given nested jars under BOOT-INF/lib. */
    static byte[] jar(String[] coordinates, byte[]... nested) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(b)) {
            zip.putNextEntry(new ZipEntry("META-INF/MANIFEST.MF"));
            zip.write("Manifest-Version: 1.0\n".getBytes(StandardCharsets.UTF_8));
            for (String c : coordinates) {
                String[] p = c.split(":");
                zip.putNextEntry(new ZipEntry("META-INF/maven/" + p[0] + "/" + p[1] + "/pom.properties"));
                zip.write(("#Generated by Maven\ngroupId=" + p[0] + "\nartifactId=" + p[1] + "\nversion=" + p[2] + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            int i = 0;
            for (byte[] n : nested) {
                zip.putNextEntry(new ZipEntry("BOOT-INF/lib/nested-" + i++ + ".jar"));
                zip.write(n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }
}
