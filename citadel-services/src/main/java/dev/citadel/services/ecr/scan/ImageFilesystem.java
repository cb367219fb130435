package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * The files of a container image that an inventory needs, read from its layers in order (lowest
 * first) and merged as an overlay filesystem would merge them; everything else is streamed past.
 *
 * <p>Kept: {@code etc/os-release} (and its usual symlink target {@code usr/lib/os-release}),
 * {@code etc/debian_version}, {@code etc/alpine-release}, {@code var/lib/dpkg/status},
 * {@code var/lib/dpkg/status.d/*} (distroless), the lines of {@code var/lib/dpkg/info/*.list} that
 * name Python metadata or jars (so that packages the OS installed are not counted twice),
 * {@code lib/apk/db/installed} (also under {@code usr/}), the header part of every
 * {@code *.dist-info/METADATA}, {@code *.egg-info/PKG-INFO} and {@code *.egg-info} file, and the
 * {@code META-INF/maven/<group>/<artifact>/pom.properties} entries of every {@code .jar},
 * {@code .war} and {@code .ear} (and of the jars one level inside those, as in Spring Boot's
 * {@code BOOT-INF/lib}).
 *
 * <p>Layers: each is a tar archive, gzip-compressed or not (detected by its magic bytes; zstd is
 * refused). OCI whiteouts apply to the layers below: {@code <dir>/.wh.<name>} deletes
 * {@code <dir>/<name>} and everything under it, {@code <dir>/.wh..wh..opq} everything under
 * {@code <dir>}; an entry of any type replaces what lower layers had at its path (a directory
 * keeps their children). Symlinks are kept only for the OS release files and are resolved inside
 * the image root ({@code ..} stops at the root, as in a chroot); no other link is followed.
 *
 * <p>Limits ({@link Limits}): layer count, entries per layer, bytes per kept file, total bytes and
 * count of kept files, bytes inflated per jar and per image. A file over its limit is skipped with
 * a warning; a layer that is not a readable tar archive, or an image over a total, is an
 * {@link ImageScanException}.
 */
public final class ImageFilesystem {
    /** Bounds on what one image may cost to read. */
    public record Limits(int maxLayers, int maxEntriesPerLayer, long maxFileBytes, long maxRetainedBytes, int maxRetainedFiles,
                         long maxJarInflatedBytes, long maxImageInflatedBytes) {
        public Limits {
            if (maxLayers < 1 || maxEntriesPerLayer < 1 || maxFileBytes < 1 || maxRetainedBytes < maxFileBytes || maxRetainedFiles < 1
                    || maxJarInflatedBytes < 1 || maxImageInflatedBytes < maxJarInflatedBytes) {
                throw new IllegalArgumentException("inconsistent image limits");
            }
        }
    }

    public static final Limits DEFAULT_LIMITS = new Limits(256, 1_000_000, 64L << 20, 256L << 20, 100_000, 1L << 30, 8L << 30);

    static final int MAX_SMALL_FILE = 64 << 10;
    static final int MAX_STATUS_PART = 1 << 20;
    static final int MAX_PYTHON_HEADER = 1 << 20;
    static final int MAX_LIST_FILE = 16 << 20;
    static final int MAX_POM_PROPERTIES = 64 << 10;
    static final int MAX_ZIP_ENTRIES = 200_000;
    static final int MAX_POMS_PER_JAR = 1_000;
    static final int MAX_WARNINGS = 100;
    private static final int MAX_LINK_HOPS = 8;

    /** What the filesystem keeps at a path. */
    sealed interface Node permits Bytes, Link, Jar {
        long cost();
    }

    /** A kept file's bytes (for Python metadata only its header, for dpkg lists only the lines that matter). */
    record Bytes(byte[] data) implements Node {
        @Override
        public long cost() {
            return data.length;
        }
    }

    /** A symlink at an OS release path. */
    record Link(String target) implements Node {
        @Override
        public long cost() {
            return target.length();
        }
    }

    /** A jar: the pom.properties files found in it and in the jars it holds. */
    record Jar(List<byte[]> pomProperties) implements Node {
        Jar {
            pomProperties = List.copyOf(pomProperties);
        }

        @Override
        public long cost() {
            return pomProperties.stream().mapToLong(b -> b.length).sum();
        }
    }

    /** Which kept files a path is, or {@code NONE}. */
    enum Kind {
        OS_RELEASE, DPKG_STATUS, DPKG_STATUS_PART, DPKG_LIST, APK_DB, PYTHON_METADATA, JAR, NONE
    }

    private final NavigableMap<String, Node> files;
    private final List<String> warnings;

    private ImageFilesystem(NavigableMap<String, Node> files, List<String> warnings) {
        this.files = Collections.unmodifiableNavigableMap(files);
        this.warnings = List.copyOf(warnings);
    }

    /** Reads the layers, lowest first; each supplier opens its layer's stream, which is closed after reading. */
    public static ImageFilesystem read(List<? extends Supplier<? extends InputStream>> layers, Limits limits) throws ImageScanException {
        requireNonNull(layers, "layers is null");
        requireNonNull(limits, "limits is null");
        if (layers.size() > limits.maxLayers()) {
            throw new ImageScanException("the image has " + layers.size() + " layers; the scanner reads at most " + limits.maxLayers());
        }
        Reader reader = new Reader(limits);
        for (int i = 0; i < layers.size(); i++) {
            try (InputStream raw = requireNonNull(layers.get(i).get(), "layer stream is null")) {
                reader.layer(decompress(raw, i + 1), i + 1);
            } catch (IOException e) {
                throw new ImageScanException("layer " + (i + 1) + " is not a readable tar archive: " + safeMessage(e), e);
            } catch (LayerException e) {
                throw new ImageScanException("layer " + (i + 1) + ": " + e.getMessage());
            }
        }
        return new ImageFilesystem(reader.lower, reader.warnings);
    }

    /** The bytes kept at {@code path}, following an OS release symlink inside the image root. */
    public Optional<byte[]> file(String path) {
        String p = path;
        for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
            Node n = files.get(p);
            if (n instanceof Bytes b) {
                return Optional.of(b.data());
            }
            if (!(n instanceof Link l)) {
                return Optional.empty();
            }
            p = resolve(p, l.target());
        }
        return Optional.empty();
    }

    /** The kept regular files (not links, not jars) whose paths satisfy {@code kind}. */
    Map<String, byte[]> files(Kind kind) {
        Map<String, byte[]> out = new TreeMap<>();
        for (var e : files.entrySet()) {
            if (e.getValue() instanceof Bytes b && kind(e.getKey()) == kind) {
                out.put(e.getKey(), b.data());
            }
        }
        return out;
    }

    /** The kept jars by path. */
    Map<String, Jar> jars() {
        Map<String, Jar> out = new TreeMap<>();
        for (var e : files.entrySet()) {
            if (e.getValue() instanceof Jar j) {
                out.put(e.getKey(), j);
            }
        }
        return out;
    }

    /** Files skipped or cut short, in the order met (at most {@value #MAX_WARNINGS}). */
    public List<String> warnings() {
        return warnings;
    }

    static Kind kind(String path) {
        switch (path) {
            case "etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/alpine-release" -> {
                return Kind.OS_RELEASE;
            }
            case "var/lib/dpkg/status" -> {
                return Kind.DPKG_STATUS;
            }
            case "lib/apk/db/installed", "usr/lib/apk/db/installed" -> {
                return Kind.APK_DB;
            }
            default -> {
                // the kinds below are recognised by their shape
            }
        }
        if (directChild(path, "var/lib/dpkg/status.d/") && !path.endsWith(".md5sums")) {
            return Kind.DPKG_STATUS_PART;
        }
        if (directChild(path, "var/lib/dpkg/info/") && path.endsWith(".list")) {
            return Kind.DPKG_LIST;
        }
        if (path.endsWith(".dist-info/METADATA") || path.endsWith(".egg-info/PKG-INFO") || path.endsWith(".egg-info")) {
            return Kind.PYTHON_METADATA;
        }
        if (path.endsWith(".jar") || path.endsWith(".war") || path.endsWith(".ear")) {
            return Kind.JAR;
        }
        return Kind.NONE;
    }

    /** Whether an OS package's file list line (an absolute path) is one an inventory of language packages looks at. */
    static boolean languageMarker(String normalisedPath) {
        Kind k = kind(normalisedPath);
        return k == Kind.PYTHON_METADATA || k == Kind.JAR || normalisedPath.endsWith(".dist-info");
    }

    private static boolean directChild(String path, String dir) {
        return path.startsWith(dir) && path.length() > dir.length() && path.indexOf('/', dir.length()) < 0;
    }

    /** {@code target} of a symlink at {@code linkPath}, resolved inside the root: {@code ..} at the root stays there. */
    static String resolve(String linkPath, String target) {
        List<String> parts = new ArrayList<>();
        if (!target.startsWith("/")) {
            int slash = linkPath.lastIndexOf('/');
            if (slash > 0) {
                parts.addAll(List.of(linkPath.substring(0, slash).split("/")));
            }
        }
        for (String part : target.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.removeLast();
                }
            } else {
                parts.add(part);
            }
        }
        return String.join("/", parts);
    }

    static InputStream decompress(InputStream raw, int layer) throws IOException, LayerException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            throw new LayerException("zstd-compressed layers are not supported by the scanner");
        }
        return in;
    }

    private static String safeMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        return m.length() > 200 ? m.substring(0, 200) : m;
    }

    /** A layer that breaks a limit (as opposed to one that is malformed). */
    static final class LayerException extends Exception {
        private static final long serialVersionUID = 1L;

        LayerException(String message) {
            super(message);
        }
    }

    /** The merge in progress: {@code lower} holds the layers read so far. */
    private static final class Reader {
        private final Limits limits;
        private final TreeMap<String, Node> lower = new TreeMap<>();
        private final List<String> warnings = new ArrayList<>();
        private long imageInflated;
        private int warned;

        Reader(Limits limits) {
            this.limits = limits;
        }

        void layer(InputStream in, int number) throws IOException, LayerException {
            TreeMap<String, Node> upper = new TreeMap<>();
            long upperCost = 0;
            long lowerCost = lower.values().stream().mapToLong(Node::cost).sum();
            TarReader tar = new TarReader(in, limits.maxEntriesPerLayer());
            int unusable = 0;
            for (Optional<TarReader.Entry> next = tar.next(); next.isPresent(); next = tar.next()) {
                TarReader.Entry e = next.get();
                String path = e.path();
                if (path.isEmpty()) {
                    unusable++;
                    continue;
                }
                int slash = path.lastIndexOf('/');
                String dir = slash < 0 ? "" : path.substring(0, slash);
                String name = path.substring(slash + 1);
                if (name.equals(".wh..wh..opq")) {
                    removeBelow(lower, dir.isEmpty() ? "" : dir + "/");
                    continue;
                }
                if (name.startsWith(".wh.")) {
                    String victim = (dir.isEmpty() ? "" : dir + "/") + name.substring(4);
                    if (!name.substring(4).isEmpty()) {
                        lower.remove(victim);
                        removeBelow(lower, victim + "/");
                    }
                    continue;
                }
                lower.remove(path);
                if (e.type() == TarReader.Type.DIRECTORY) {
                    continue;
                }
                removeBelow(lower, path + "/");
                Kind kind = kind(path);
                Node node = switch (e.type()) {
                    case FILE -> kind == Kind.NONE ? null : read(tar, e, kind, number);
                    case SYMLINK -> kind == Kind.OS_RELEASE ? new Link(e.linkTarget()) : null;
                    case HARDLINK -> {
                        if (kind == Kind.NONE) {
                            yield null;
                        }
                        Optional<String> target = TarReader.normalise(e.linkTarget());
                        yield target.map(t -> upper.containsKey(t) ? upper.get(t) : lower.get(t)).orElse(null);
                    }
                    default -> null;
                };
                if (node == null) {
                    upper.remove(path);
                    continue;
                }
                upper.put(path, node);
                upperCost += node.cost();
                if (lower.size() + upper.size() > limits.maxRetainedFiles()) {
                    throw new LayerException("the image holds more than " + limits.maxRetainedFiles() + " package metadata files");
                }
                if (lowerCost + upperCost > limits.maxRetainedBytes()) {
                    throw new LayerException("the image's package metadata exceeds " + limits.maxRetainedBytes() + " bytes");
                }
            }
            if (unusable > 0) {
                warn("layer " + number + ": " + unusable + " entries with paths outside the image root or too long were ignored");
            }
            lower.putAll(upper);
        }

        private static void removeBelow(TreeMap<String, Node> map, String prefix) {
            if (prefix.isEmpty()) {
                map.clear();
                return;
            }
            // '/' + 1 == '0': every path that starts with the prefix sorts before prefix-with-its-last-char-bumped
            String end = prefix.substring(0, prefix.length() - 1) + (char) ('/' + 1);
            map.subMap(prefix, true, end, false).clear();
        }

        private Node read(TarReader tar, TarReader.Entry e, Kind kind, int layer) throws IOException {
            InputStream content = tar.content();
            return switch (kind) {
                case OS_RELEASE -> whole(content, e, MAX_SMALL_FILE, layer);
                case DPKG_STATUS, APK_DB -> whole(content, e, limits.maxFileBytes(), layer);
                case DPKG_STATUS_PART -> whole(content, e, MAX_STATUS_PART, layer);
                case DPKG_LIST -> new Bytes(languageLines(content));
                case PYTHON_METADATA -> new Bytes(header(content));
                case JAR -> jar(content, e.path(), layer);
                case NONE -> throw new IllegalStateException("unreachable");
            };
        }

        private Node whole(InputStream content, TarReader.Entry e, long max, int layer) throws IOException {
            if (e.size() > max) {
                warn("layer " + layer + ": " + e.path() + " is larger than " + max + " bytes and was not read");
                return null;
            }
            return new Bytes(content.readNBytes((int) e.size()));
        }

        /** The metadata header: everything before the first empty line (the body is a package's long description). */
        private static byte[] header(InputStream content) throws IOException {
            byte[] data = content.readNBytes(MAX_PYTHON_HEADER);
            for (int i = 0; i + 1 < data.length; i++) {
                if (data[i] == '\n' && (data[i + 1] == '\n' || data[i + 1] == '\r' && i + 2 < data.length && data[i + 2] == '\n')) {
                    return java.util.Arrays.copyOf(data, i + 1);
                }
            }
            return data;
        }

        /** The lines of a dpkg file list that name language package metadata, normalised, one per line. */
        private static byte[] languageLines(InputStream content) throws IOException {
            byte[] data = content.readNBytes(MAX_LIST_FILE);
            Set<String> kept = new LinkedHashSet<>();
            int start = 0;
            for (int i = 0; i <= data.length; i++) {
                if (i == data.length || data[i] == '\n') {
                    if (i - start <= TarReader.MAX_PATH_LENGTH) {
                        String line = new String(data, start, i - start, StandardCharsets.UTF_8);
                        TarReader.normalise(line).filter(ImageFilesystem::languageMarker).ifPresent(kept::add);
                    }
                    start = i + 1;
                }
            }
            return String.join("\n", kept).getBytes(StandardCharsets.UTF_8);
        }

        private Node jar(InputStream content, String path, int layer) throws IOException {
            List<byte[]> poms = new ArrayList<>();
            long[] budget = {Math.min(limits.maxJarInflatedBytes(), limits.maxImageInflatedBytes() - imageInflated)};
            long before = budget[0];
            try {
                scanZip(content, 0, poms, budget);
            } catch (ZipException | BudgetException | java.io.EOFException e) {
                warn("layer " + layer + ": " + path + " was read only in part (" + safeMessage(e) + ")");
            } catch (IllegalArgumentException e) {
                // ZipInputStream throws this for entry names that are not valid in the jar's declared encoding
                warn("layer " + layer + ": " + path + " was read only in part (bad entry name)");
            } finally {
                imageInflated += before - budget[0];
            }
            return new Jar(poms);
        }

        private void scanZip(InputStream in, int depth, List<byte[]> poms, long[] budget) throws IOException, BudgetException {
            ZipInputStream zip = new ZipInputStream(new NonClosing(in));
            int entries = 0;
            for (ZipEntry z = zip.getNextEntry(); z != null; z = zip.getNextEntry()) {
                if (++entries > MAX_ZIP_ENTRIES) {
                    throw new BudgetException("more than " + MAX_ZIP_ENTRIES + " entries");
                }
                String name = z.getName();
                if (isPomProperties(name) && poms.size() < MAX_POMS_PER_JAR) {
                    byte[] b = readCounted(zip, MAX_POM_PROPERTIES + 1, budget);
                    if (b.length <= MAX_POM_PROPERTIES) {
                        poms.add(b);
                    }
                } else if (depth == 0 && !z.isDirectory() && name.endsWith(".jar")) {
                    scanZip(new Counted(zip, budget), depth + 1, poms, budget);
                }
                drain(zip, budget);
            }
        }

        private static boolean isPomProperties(String name) {
            if (!name.startsWith("META-INF/maven/") || !name.endsWith("/pom.properties")) {
                return false;
            }
            String[] parts = name.split("/", -1);
            return parts.length == 5 && !parts[2].isEmpty() && !parts[3].isEmpty();
        }

        private static byte[] readCounted(InputStream in, int max, long[] budget) throws IOException, BudgetException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while (out.size() < max && (n = in.read(buf, 0, Math.min(buf.length, max - out.size()))) > 0) {
                spend(budget, n);
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }

        private static void drain(InputStream in, long[] budget) throws IOException, BudgetException {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                spend(budget, n);
            }
        }

        private static void spend(long[] budget, long n) throws BudgetException {
            budget[0] -= n;
            if (budget[0] < 0) {
                throw new BudgetException("inflated size limit reached");
            }
        }

        private void warn(String message) {
            if (warned++ < MAX_WARNINGS) {
                warnings.add(message);
            }
        }
    }

    private static final class BudgetException extends Exception {
        private static final long serialVersionUID = 1L;

        BudgetException(String message) {
            super(message);
        }
    }

    /** A nested jar's stream: counts what it inflates against the budget; an exhausted budget reads as an I/O error. */
    private static final class Counted extends InputStream {
        private final InputStream in;
        private final long[] budget;

        Counted(InputStream in, long[] budget) {
            this.in = in;
            this.budget = budget;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                budget[0] -= n;
                if (budget[0] < 0) {
                    throw new ZipException("inflated size limit reached");
                }
            }
            return n;
        }

        @Override
        public void close() {
            // the outer zip stream stays open
        }
    }

    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the tar reader owns the stream
        }
    }
}
