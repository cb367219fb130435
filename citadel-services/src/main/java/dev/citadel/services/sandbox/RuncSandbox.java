package dev.citadel.services.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Runs an OCI image under {@code runc} with no network and no privilege: the image is unpacked
 * with {@code umoci} into a bundle of its own whose files belong to an unprivileged id range, and
 * the container gets new user, network (loopback only), PID, IPC, UTS, mount and cgroup
 * namespaces; a read-only root; no capabilities; {@code noNewPrivileges}; masked and read-only
 * {@code /proc} paths; a tmpfs {@code /tmp}; memory and PID limits. A supervisor waits for it with
 * a time limit (SIGTERM, then SIGKILL after the grace period), keeps the first bytes of its output,
 * and deletes the container and its bundle in every case.
 *
 * <p>This is the first part of the training issue's sandbox: the seccomp profile, the disk quota
 * for volumes, cached unpacked roots and the job-facing contract come with it.
 */
public final class RuncSandbox {
    /** Ids inside a container map to host ids from here (65,536 of them), which own nothing else. */
    public static final int HOST_ID_BASE = 200_000;
    private static final int ID_RANGE = 65_536;
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern REFERENCE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What to run: an image layout and tag, the process, its limits, and the time it may take. */
    public record Spec(Path layout, String tag, List<String> args, Map<String, String> env, String cwd, long memoryBytes, int pids,
            Duration timeLimit, Duration grace, int outputLimit) {
        public Spec {
            args = List.copyOf(args);
            env = Map.copyOf(env);
        }
    }

    /** How a run ended: its exit code (128 + signal when killed), whether the time limit ended it, and its first output bytes. */
    public record Result(int exitCode, boolean timedOut, String output) {
    }

    private final Path root;

    /** @param root where bundles are made (one directory per run, removed after it); created 0700 */
    public RuncSandbox(Path root) {
        this.root = root;
        try {
            Files.createDirectories(root);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
            // The container's mapped root (an unprivileged host id) must traverse every directory above its bundle.
            for (Path p = root.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new IllegalStateException(p + " is not traversable by others (o+x), so no container could reach its bundle under "
                            + root);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Result run(String id, Spec spec) throws IOException, InterruptedException {
        if (!ID.matcher(id).matches() || !REFERENCE.matcher(spec.tag()).matches()) {
            throw new IllegalArgumentException("bad container id or image tag");
        }
        Path dir = root.resolve(id);
        Files.createDirectory(dir);
        Path bundle = dir.resolve("bundle");
        try {
            exec(List.of("umoci", "unpack", "--uid-map", "0:" + HOST_ID_BASE + ":" + ID_RANGE, "--gid-map", "0:" + HOST_ID_BASE + ":" + ID_RANGE,
                    "--image", spec.layout() + ":" + spec.tag(), bundle.toString()), Duration.ofMinutes(10));
            // Only root and the container's mapped group may traverse the bundle; nobody may list it.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x---"));
            Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("rwx--x---"));
            exec(List.of("chown", "0:" + HOST_ID_BASE, dir.toString(), bundle.toString()), Duration.ofSeconds(30));
            Files.writeString(bundle.resolve("config.json"), config(spec).toString(), StandardCharsets.UTF_8);
            return supervise(id, bundle, spec);
        } finally {
            deleteTree(dir);
        }
    }

    private Result supervise(String id, Path bundle, Spec spec) throws IOException, InterruptedException {
        Path output = bundle.getParent().resolve("output");
        Process p = new ProcessBuilder("runc", "run", "--bundle", bundle.toString(), id).redirectErrorStream(true)
                .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        boolean timedOut = false;
        try {
            if (!p.waitFor(spec.timeLimit().toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                kill(id, "TERM");
                if (!p.waitFor(spec.grace().toMillis(), TimeUnit.MILLISECONDS)) {
                    kill(id, "KILL");
                    p.waitFor(30, TimeUnit.SECONDS);
                }
            }
        } finally {
            if (p.isAlive()) {
                kill(id, "KILL");
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
            exec(List.of("runc", "delete", "--force", id), Duration.ofSeconds(30));
        }
        String out;
        try (InputStream in = Files.newInputStream(output)) {
            out = new String(in.readNBytes(spec.outputLimit()), StandardCharsets.UTF_8);
        }
        return new Result(p.exitValue(), timedOut, out);
    }

    private static void kill(String id, String signal) throws IOException, InterruptedException {
        new ProcessBuilder("runc", "kill", "--all", id, signal).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor(10, TimeUnit.SECONDS);
    }

    /** The OCI runtime configuration of a run: the isolation is all here. */
    static ObjectNode config(Spec spec) {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("ociVersion", "1.0.2");
        ObjectNode process = c.putObject("process");
        process.put("terminal", false);
        process.putObject("user").put("uid", 0).put("gid", 0);
        ArrayNode args = process.putArray("args");
        spec.args().forEach(args::add);
        ArrayNode env = process.putArray("env");
        spec.env().forEach((k, v) -> env.add(k + "=" + v));
        process.put("cwd", spec.cwd());
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            caps.putArray(set);
        }
        process.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", 1024).put("soft", 1024);
        process.put("noNewPrivileges", true);
        c.putObject("root").put("path", "rootfs").put("readonly", true);
        c.put("hostname", "sandbox");
        ArrayNode mounts = c.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620");
        mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        // A sysfs of the container's own network namespace (a bind of the host's would show the host's interfaces).
        mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
        mount(mounts, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777", "size=262144k");
        ObjectNode linux = c.putObject("linux");
        linux.putArray("uidMappings").addObject().put("containerID", 0).put("hostID", HOST_ID_BASE).put("size", ID_RANGE);
        linux.putArray("gidMappings").addObject().put("containerID", 0).put("hostID", HOST_ID_BASE).put("size", ID_RANGE);
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String ns : List.of("pid", "network", "ipc", "uts", "mount", "user", "cgroup")) {
            namespaces.addObject().put("type", ns);
        }
        ObjectNode resources = linux.putObject("resources");
        resources.putObject("memory").put("limit", spec.memoryBytes()).put("swap", spec.memoryBytes());
        resources.putObject("pids").put("limit", spec.pids());
        resources.putArray("devices").addObject().put("allow", false).put("access", "rwm");
        ArrayNode masked = linux.putArray("maskedPaths");
        for (String path : List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware")) {
            masked.add(path);
        }
        ArrayNode readonly = linux.putArray("readonlyPaths");
        for (String path : List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")) {
            readonly.add(path);
        }
        return c;
    }

    private static void mount(ArrayNode mounts, String destination, String type, String source, String... options) {
        ObjectNode m = mounts.addObject().put("destination", destination).put("type", type).put("source", source);
        if (options.length > 0) {
            ArrayNode o = m.putArray("options");
            for (String option : options) {
                o.add(option);
            }
        }
    }

    private static void exec(List<String> command, Duration limit) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readNBytes(64 * 1024), StandardCharsets.UTF_8);
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.getFirst() + " timed out");
        }
        if (p.exitValue() != 0) {
            throw new IOException(command.getFirst() + " failed: " + out.strip());
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        }
    }
}
