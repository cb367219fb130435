package dev.citadel.services.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The unpacked roots of images, one per manifest digest, shared read-only by every run of that
 * image. Layout under its directory:
 *
 * <pre>
 * &lt;digest hex&gt;/rootfs        the image's file system, unpacked by umoci with ids mapped to 200000+
 * &lt;digest hex&gt;/image.json    {"bytes": size of rootfs, "config": {Entrypoint, Cmd, Env, WorkingDir, User}};
 *                             its modification time is when a run last took the root (the LRU order)
 * .unpack-&lt;hex&gt;-…            an unpack in progress (renamed to &lt;hex&gt; when whole; removed at startup)
 * .evicted-&lt;hex&gt;-…           an evicted root being deleted (removed at startup)
 * </pre>
 *
 * A root appears only by an atomic rename of a finished unpack, so a half-unpacked root is never
 * used; one lock per digest makes concurrent first runs of an image unpack it once. When the roots
 * together exceed the byte budget, the least recently used ones that no run holds (in this process,
 * or named by a run directory a crash left) are evicted.
 *
 * <p>The process settings come from the image's configuration blob (index.json, manifest,
 * config), not from umoci's generated runtime configuration, which merges Entrypoint and Cmd.
 */
final class ImageRoots {
    /** The tag the layout is written with for umoci. */
    private static final String TAG = "citadel";
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final long MAX_JSON_BYTES = 4L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What an image's configuration says about its process; absent fields are empty. */
    record ImageConfig(List<String> entrypoint, List<String> cmd, List<String> env, String workingDir, String user) {
        ImageConfig {
            entrypoint = List.copyOf(entrypoint);
            cmd = List.copyOf(cmd);
            env = List.copyOf(env);
        }
    }

    /** A root taken by a run; give it back with {@link #release}. */
    record Root(String hex, Path rootfs, ImageConfig config) {
    }

    private final Path dir;
    private final long budgetBytes;
    private final Supplier<Set<String>> pinnedByRuns;
    private final Map<String, Object> unpackLocks = new ConcurrentHashMap<>();
    private final Object bookkeeping = new Object();
    private final Map<String, Integer> inUse = new HashMap<>(); // guarded by bookkeeping

    /**
     * @param dir          where roots live; created, and cleared of unfinished unpacks and evictions
     * @param budgetBytes  how many bytes of unpacked roots to keep
     * @param pinnedByRuns the digests (hex) run directories name, which must not be evicted
     */
    ImageRoots(Path dir, long budgetBytes, Supplier<Set<String>> pinnedByRuns) throws IOException {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException("the image cache budget must not be negative");
        }
        this.dir = dir;
        this.budgetBytes = budgetBytes;
        this.pinnedByRuns = pinnedByRuns;
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ".*")) {
            for (Path leftover : entries) {
                RuncSandbox.deleteTree(leftover);
            }
        }
    }

    /** The root of {@code image}, unpacked now if no run has it yet; counts as in use until released. */
    Root acquire(ContainerSpec.Image image) throws IOException {
        String hex = image.digest().substring("sha256:".length());
        synchronized (unpackLocks.computeIfAbsent(hex, h -> new Object())) {
            for (int attempt = 0; attempt < 2; attempt++) {
                synchronized (bookkeeping) {
                    Path entry = dir.resolve(hex);
                    if (Files.isDirectory(entry.resolve("rootfs"), LinkOption.NOFOLLOW_LINKS)) {
                        JsonNode meta = readJson(entry.resolve("image.json"));
                        Files.setLastModifiedTime(entry.resolve("image.json"), FileTime.from(Instant.now()));
                        inUse.merge(hex, 1, Integer::sum);
                        return new Root(hex, entry.resolve("rootfs"), parseConfig(meta.path("config")));
                    }
                }
                unpack(image, hex);
            }
        }
        throw new SandboxException("image " + image.digest() + " could not be unpacked");
    }

    void release(Root root) {
        synchronized (bookkeeping) {
            inUse.computeIfPresent(root.hex(), (h, n) -> n > 1 ? n - 1 : null);
        }
    }

    /** Bytes of all roots present. */
    long bytes() throws IOException {
        synchronized (bookkeeping) {
            return entries().stream().mapToLong(Entry::bytes).sum();
        }
    }

    /** The digests (hex) of the roots present. */
    Set<String> digests() throws IOException {
        synchronized (bookkeeping) {
            return Set.copyOf(entries().stream().map(Entry::hex).toList());
        }
    }

    /** Deletes least recently used roots that no run holds until the rest fit the budget (or nothing more can go). */
    void evict() throws IOException {
        List<Path> doomed = new ArrayList<>();
        synchronized (bookkeeping) {
            List<Entry> entries = new ArrayList<>(entries());
            long total = entries.stream().mapToLong(Entry::bytes).sum();
            if (total <= budgetBytes) {
                return;
            }
            Set<String> pinned = pinnedByRuns.get();
            entries.sort(Comparator.comparing(Entry::lastUsed));
            for (Entry e : entries) {
                if (total <= budgetBytes) {
                    break;
                }
                if (inUse.containsKey(e.hex()) || pinned.contains(e.hex())) {
                    continue;
                }
                Path trash = dir.resolve(".evicted-" + e.hex() + "-" + System.nanoTime());
                Files.move(dir.resolve(e.hex()), trash, StandardCopyOption.ATOMIC_MOVE);
                doomed.add(trash);
                total -= e.bytes();
            }
        }
        for (Path trash : doomed) {
            RuncSandbox.deleteTree(trash);
        }
    }

    private record Entry(String hex, long bytes, FileTime lastUsed) {
    }

    private List<Entry> entries() throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> all = Files.newDirectoryStream(dir)) {
            for (Path p : all) {
                String name = p.getFileName().toString();
                Path meta = p.resolve("image.json");
                if (HEX.matcher(name).matches() && Files.isRegularFile(meta)) {
                    entries.add(new Entry(name, readJson(meta).path("bytes").asLong(), Files.getLastModifiedTime(meta)));
                }
            }
        }
        return entries;
    }

    private void unpack(ContainerSpec.Image image, String hex) throws IOException {
        Path work = Files.createTempDirectory(dir, ".unpack-" + hex + "-");
        try {
            Path layout = work.resolve("layout");
            image.layout().writeLayout(layout, TAG);
            ImageConfig config = readConfig(layout, image.digest());
            Path bundle = work.resolve("bundle");
            String map = "0:" + RuncSandbox.HOST_ID_BASE + ":" + RuncSandbox.ID_RANGE;
            try {
                Commands.run(List.of("umoci", "unpack", "--uid-map", map, "--gid-map", map, "--image", layout + ":" + TAG, bundle.toString()),
                        Duration.ofMinutes(30));
            } catch (IOException e) {
                throw new SandboxException("image " + image.digest() + " could not be unpacked", e);
            }
            Path rootfs = work.resolve("rootfs");
            Files.move(bundle.resolve("rootfs"), rootfs);
            RuncSandbox.deleteTree(bundle);
            RuncSandbox.deleteTree(layout);
            prepareMountPoints(rootfs);
            ObjectNode meta = JSON.createObjectNode();
            meta.put("bytes", size(rootfs));
            ObjectNode c = meta.putObject("config");
            config.entrypoint().forEach(c.putArray("Entrypoint")::add);
            config.cmd().forEach(c.putArray("Cmd")::add);
            config.env().forEach(c.putArray("Env")::add);
            c.put("WorkingDir", config.workingDir()).put("User", config.user());
            Files.write(work.resolve("image.json"), JSON.writeValueAsBytes(meta));
            // Only Citadel and the container's mapped root group may pass; nobody else may list or read the root.
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x---"));
            Files.setAttribute(work, "unix:gid", RuncSandbox.HOST_ID_BASE, LinkOption.NOFOLLOW_LINKS);
            Files.move(work, dir.resolve(hex), StandardCopyOption.ATOMIC_MOVE);
        } finally {
            RuncSandbox.deleteTree(work);
        }
    }

    /**
     * The directories runc mounts over are made now, owned by the mapped root, so that runs of a
     * shared root need not create them (a mount point outside the volume that the image lacks is
     * still created by runc on first use: an empty directory in the shared root).
     */
    private static void prepareMountPoints(Path rootfs) throws IOException {
        for (String name : List.of("proc", "sys", "dev", "tmp")) {
            Path p = rootfs.resolve(name);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(name.equals("tmp") ? "rwxrwxrwx" : "rwxr-xr-x"));
                Files.setAttribute(p, "unix:uid", RuncSandbox.HOST_ID_BASE, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", RuncSandbox.HOST_ID_BASE, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    /** Follows index.json to the manifest whose digest is {@code digest}, and that to the configuration. */
    static ImageConfig readConfig(Path layout, String digest) throws IOException {
        JsonNode index = readJson(layout.resolve("index.json"));
        JsonNode descriptor = null;
        for (JsonNode m : index.path("manifests")) {
            if (digest.equals(m.path("digest").asText())) {
                descriptor = m;
            }
        }
        if (descriptor == null) {
            throw new SandboxException("the image's layout has no manifest " + digest);
        }
        if (!descriptor.path("mediaType").asText().endsWith("manifest.v1+json")) {
            throw new SandboxException("image " + digest + " is not a single-platform image manifest");
        }
        JsonNode manifest = readJson(blob(layout, digest));
        JsonNode config = readJson(blob(layout, manifest.path("config").path("digest").asText()));
        if (!config.path("os").asText("linux").equals("linux")) {
            throw new SandboxException("image " + digest + " is not a Linux image");
        }
        return parseConfig(config.path("config"));
    }

    private static ImageConfig parseConfig(JsonNode c) throws SandboxException {
        return new ImageConfig(strings(c.path("Entrypoint")), strings(c.path("Cmd")), strings(c.path("Env")),
                c.path("WorkingDir").asText(""), c.path("User").asText(""));
    }

    private static List<String> strings(JsonNode array) throws SandboxException {
        if (array.isMissingNode() || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw new SandboxException("the image's configuration is malformed");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : array) {
            if (!s.isTextual()) {
                throw new SandboxException("the image's configuration is malformed");
            }
            out.add(s.asText());
        }
        return out;
    }

    private static Path blob(Path layout, String digest) throws SandboxException {
        if (!digest.startsWith("sha256:") || !HEX.matcher(digest.substring(7)).matches()) {
            throw new SandboxException("the image's layout names a bad digest");
        }
        return layout.resolve("blobs/sha256").resolve(digest.substring(7));
    }

    private static JsonNode readJson(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = in.readNBytes((int) MAX_JSON_BYTES + 1);
            if (bytes.length > MAX_JSON_BYTES) {
                throw new SandboxException("the image's " + file.getFileName() + " is too large");
            }
            return JSON.readTree(bytes);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new SandboxException("the image's layout holds malformed JSON", e);
        }
    }

    private static long size(Path rootfs) throws IOException {
        long[] total = {0};
        Files.walkFileTree(rootfs, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                total[0] += attrs.size();
                return FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }
}
