package dev.citadel.services.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local {@link Sandbox}: runs OCI images under {@code runc} with no network and no privilege.
 *
 * <p><b>Isolation</b> (all of it in {@link #config}): new user namespace (container ids 0–65535
 * are host ids {@value #HOST_ID_BASE}+, which own nothing else on the host), network namespace with
 * loopback only (and a sysfs of its own), PID, IPC, UTS, mount and cgroup namespaces; a read-only
 * root; no capabilities in any set; {@code noNewPrivileges}; the {@link SeccompProfile} (EPERM for
 * every system call not allowed); masked and read-only {@code /proc} paths; a tmpfs {@code /tmp};
 * memory (and swap), PID, CPU (CFS quota) and open-file limits; no devices beyond runc's defaults.
 *
 * <p><b>Layout</b> under the root directory given to the constructor (which must be on a file
 * system whose every parent directory others may traverse, as the container's mapped root must
 * reach its root file system):
 *
 * <pre>
 * images/&lt;digest hex&gt;/rootfs   cached unpacked image roots, shared read-only ({@link ImageRoots})
 * runs/&lt;id&gt;/volume.img         the volume's ext4 file system in a sparse file of the volume's size
 * runs/&lt;id&gt;/fs                 where it is loop-mounted (nosuid, nodev); root, 0710 to the mapped root's group
 * runs/&lt;id&gt;/fs/volume          the volume: an fscrypt-encrypted directory owned by the container's user, 0700
 * runs/&lt;id&gt;/bundle/config.json the runtime configuration; root.path is the cached root
 * runs/&lt;id&gt;/image              the digest (hex) of the run's image, which pins its root against eviction
 * runs/&lt;id&gt;/runc.log, pid      runc's log (JSON lines) and the container's pid once it was created
 * runs/&lt;id&gt;/port-&lt;port&gt;.sock   a port bridge's socket (root, 0600), while the container runs ({@link PortBridges})
 * state/                        runc's state root ({@code runc --root}), used by every runc call
 * </pre>
 *
 * <p><b>Volumes</b> have a real quota: a file system of their own, so writing past the size fails
 * with ENOSPC inside the container and for the caller alike, and the host file system only ever
 * gives the volume its size. They are encrypted: the file system is made with ext4's
 * {@code encrypt} feature and the volume directory gets an fscrypt v2 policy under the key given
 * to {@link #createVolume} ({@link Fscrypt}), so contents and names reach the disk as ciphertext
 * (AES-256-XTS, AES-256-CTS); the key lives in the kernel until the volume is unmounted at
 * {@link #remove}. A host reboot or a crash that loses the mount leaves an unreadable file. The caller writes inputs as root before {@link #start}; start hands
 * the whole volume tree to the container's mapped user (chown), so it can read and write all of
 * it, and Citadel (root) can still read and write everything afterwards. What the container left
 * in the volume is the container's: read it back without following symbolic links (a link to
 * {@code /etc/shadow} would otherwise be read with Citadel's rights); hard links cannot reach
 * outside the volume's own file system.
 *
 * <p><b>Process</b>: the image configuration's Entrypoint and Cmd, the spec's entrypoint replacing
 * the first (and then dropping the image's Cmd) and non-empty arguments replacing the second, as
 * {@code docker run --entrypoint … IMAGE ARGS} does; the image's Env overlaid by the spec's (PATH
 * defaults to the usual one); the image's WorkingDir or {@code /}; the image's User when numeric
 * ({@code uid[:gid]}), otherwise root in the namespace (a host id of the mapped range, unprivileged
 * on the host: names cannot be looked up without trusting the image's {@code /etc/passwd}).
 *
 * <p><b>Supervision</b>: {@code runc run} is a child process; its merged output is read by a thread
 * of the run, handed to the sink line by line (lines cut at {@value #MAX_LINE_BYTES} bytes) up to the
 * output limit, and drained after. The time limit and {@link Execution#stop} send SIGTERM to every
 * process ({@code runc kill --all}), then SIGKILL after the grace period. The exit completes when
 * runc has returned and the container is deleted. {@link #present} finds runs a crashed process
 * left behind (runc's state and run directories) and {@link #remove} reaps them. {@link #close}
 * stops every container this instance started.
 *
 * <p><b>Host requirements</b>: root, {@code runc} (1.1 tested), {@code umoci}, {@code mkfs.ext4},
 * {@code mount}/{@code umount}/{@code losetup} and loop devices, a kernel with ext4
 * encryption ({@code /sys/fs/ext4/features/encryption}); {@code nsenter} and {@code socat}
 * for {@link Execution#connect}. Resources go through runc's
 * cgroup driver: on this hybrid cgroup v1 host the memory (with swap), pids and cpu controllers
 * apply them (the CPU limit is {@code cpu.cfs_quota_us} over a 100 ms period; a limit of 0 or
 * less sets none). One instance owns a root directory at a time; an instance made after a crash
 * clears unfinished unpacks and finds the old runs through {@link #present}.
 */
public final class RuncSandbox implements Sandbox {
    /** Ids inside a container map to host ids from here (65,536 of them), which own nothing else. */
    public static final int HOST_ID_BASE = 200_000;
    static final int ID_RANGE = 65_536;
    /** The smallest volume: an ext4 file system needs some room for its own metadata. */
    public static final long MIN_VOLUME_BYTES = 4L << 20;
    static final int MAX_LINE_BYTES = 16 * 1024;
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Duration COMMAND_LIMIT = Duration.ofSeconds(60);
    private static final Duration START_LIMIT = Duration.ofSeconds(60);
    private static final Duration KILLED_LIMIT = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(RuncSandbox.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Path runs;
    private final Path state;
    private final ImageRoots images;
    private final Map<String, RuncExecution> executions = new ConcurrentHashMap<>();

    /**
     * @param root             the sandbox's directory (created 0711; see the class comment for what is in it)
     * @param imageCacheBytes  how many bytes of unpacked image roots to keep for later runs; roots in use are never evicted
     * @throws IllegalStateException when a parent of {@code root} cannot be traversed by others, so no container could start, or
     *                               the kernel cannot encrypt ext4 directories, so no volume could be encrypted
     */
    public RuncSandbox(Path root, long imageCacheBytes) {
        this.root = root.toAbsolutePath().normalize();
        this.runs = this.root.resolve("runs");
        this.state = this.root.resolve("state");
        try {
            Files.createDirectories(this.root);
            Files.setPosixFilePermissions(this.root, PosixFilePermissions.fromString("rwx--x--x"));
            // The container's mapped root (an unprivileged host id) must traverse every directory above its root file system.
            for (Path p = this.root.getParent(); p != null; p = p.getParent()) {
                if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new IllegalStateException(p + " is not traversable by others (o+x), so no container could reach its root under "
                            + this.root);
                }
            }
            if (!Files.exists(Path.of("/sys/fs/ext4/features/encryption"))) {
                throw new IllegalStateException("this kernel's ext4 cannot encrypt (/sys/fs/ext4/features/encryption is missing: a kernel built"
                        + " with CONFIG_FS_ENCRYPTION is needed), so no volume could be encrypted");
            }
            Files.createDirectories(runs);
            Files.setPosixFilePermissions(runs, PosixFilePermissions.fromString("rwx--x--x"));
            Files.createDirectories(state);
            Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
            this.images = new ImageRoots(this.root.resolve("images"), imageCacheBytes, this::pinnedImages);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Path createVolume(String id, long sizeBytes, byte[] key) throws IOException {
        checkId(id);
        if (sizeBytes < MIN_VOLUME_BYTES) {
            throw new IllegalArgumentException("a volume needs at least " + MIN_VOLUME_BYTES + " bytes");
        }
        if (key.length != VOLUME_KEY_BYTES) {
            throw new IllegalArgumentException("a volume key has " + VOLUME_KEY_BYTES + " bytes");
        }
        Path run = runs.resolve(id);
        Files.createDirectory(run);
        try {
            // Citadel, and the container's mapped root group to reach the volume's mount point; nobody may list it.
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx--x---"));
            Files.setAttribute(run, "unix:gid", HOST_ID_BASE, LinkOption.NOFOLLOW_LINKS);
            Path image = run.resolve("volume.img");
            Files.createFile(image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
                f.setLength(sizeBytes);
            }
            Commands.run(List.of("mkfs.ext4", "-q", "-F", "-O", "encrypt,^has_journal", "-m", "0", "-E",
                    "root_owner=0:" + HOST_ID_BASE, image.toString()), COMMAND_LIMIT);
            Path fs = run.resolve("fs");
            Files.createDirectory(fs);
            if (!Files.exists(Path.of("/dev/loop-control")) && !Files.exists(Path.of("/dev/loop0"))) {
                throw new IOException("volumes need loop devices and this host has none (/dev/loop-control missing: modprobe loop)");
            }
            Commands.Result mounted = Commands.attempt(List.of("mount", "-o", "loop,nosuid,nodev", image.toString(), fs.toString()),
                    COMMAND_LIMIT);
            if (!mounted.ok()) {
                throw new IOException("the volume of run " + id + " could not be loop-mounted (mount needs root and a free loop device): "
                        + mounted.output().strip());
            }
            Files.deleteIfExists(fs.resolve("lost+found"));
            Files.setPosixFilePermissions(fs, PosixFilePermissions.fromString("rwx--x---"));
            // A file system's root directory cannot be encrypted: the volume is the one directory below it.
            Path volume = Files.createDirectory(fs.resolve("volume"), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Fscrypt.encrypt(volume, Fscrypt.addKey(fs, key));
            return volume;
        } catch (IOException | RuntimeException e) {
            try {
                remove(id);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public Execution start(String id, ContainerSpec spec, OutputSink output) throws IOException {
        checkId(id);
        Path run = runs.resolve(id);
        Path volume = run.resolve("fs").resolve("volume");
        if (!isMountPoint(run.resolve("fs")) || !Files.isDirectory(volume, LinkOption.NOFOLLOW_LINKS)) {
            throw new SandboxException("run " + id + " has no volume");
        }
        Path bundle = run.resolve("bundle");
        if (executions.containsKey(id) || Files.exists(bundle)) {
            throw new SandboxException("run " + id + " was already started");
        }
        for (ContainerSpec.Mount m : spec.mounts()) {
            if (!m.source().isAbsolute() || !Files.isDirectory(m.source())) {
                throw new SandboxException("a mount's source is not a directory");
            }
        }
        Files.createDirectory(bundle);
        ImageRoots.Root image;
        try {
            Files.writeString(run.resolve("image"), spec.image().digest().substring("sha256:".length()));
            image = images.acquire(spec.image());
        } catch (IOException | RuntimeException e) {
            deleteTree(bundle);
            throw e;
        }
        boolean started = false;
        try {
            ObjectNode config = config(id, spec, image, volume);
            JsonNode user = config.path("process").path("user");
            // Everything the caller put in the volume becomes the container user's (symbolic links themselves, never their targets).
            Commands.run(List.of("chown", "-R", "--no-dereference", (HOST_ID_BASE + user.path("uid").asInt()) + ":"
                    + (HOST_ID_BASE + user.path("gid").asInt()), volume.toString()), COMMAND_LIMIT);
            Files.setPosixFilePermissions(bundle, PosixFilePermissions.fromString("rwx--x---"));
            Files.setAttribute(bundle, "unix:gid", HOST_ID_BASE, LinkOption.NOFOLLOW_LINKS);
            Files.write(bundle.resolve("config.json"), JSON.writeValueAsBytes(config));
            Path pidFile = run.resolve("pid");
            Process process = new ProcessBuilder(runc("--log", run.resolve("runc.log").toString(), "--log-format", "json", "run",
                    "--pid-file", pidFile.toString(), "--bundle", bundle.toString(), id))
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            RuncExecution execution = new RuncExecution(id, spec, process, output, this, this::finish, image, run);
            executions.put(id, execution);
            waitUntilCreated(execution, pidFile);
            execution.created();
            execution.supervise();
            started = true;
            return execution;
        } finally {
            if (!started) {
                executions.remove(id);
                deleteContainer(id);
                images.release(image);
                deleteTree(bundle);
            }
        }
    }

    /** runc writes the pid file once the container exists, before its process runs; a failure to start ends runc first. */
    private void waitUntilCreated(RuncExecution execution, Path pidFile) throws IOException {
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        try {
            while (!Files.exists(pidFile)) {
                if (!execution.process().isAlive()) {
                    if (Files.exists(pidFile)) {
                        return;
                    }
                    execution.awaitOutput();
                    throw new SandboxException("the container could not be started: " + runcError(execution.id()));
                }
                if (System.nanoTime() > deadline) {
                    execution.process().destroyForcibly();
                    execution.process().waitFor(10, TimeUnit.SECONDS);
                    throw new SandboxException("the container did not start within " + START_LIMIT);
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            execution.process().destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while starting a container");
        }
    }

    /** runc's last error message, with the sandbox's own paths taken out (it may be shown to the job's owner). */
    private String runcError(String id) {
        String message = "runc failed";
        try {
            for (String line : Files.readAllLines(runs.resolve(id).resolve("runc.log"), StandardCharsets.UTF_8)) {
                JsonNode entry = JSON.readTree(line);
                if ("error".equals(entry.path("level").asText()) || "fatal".equals(entry.path("level").asText())) {
                    message = entry.path("msg").asText(message);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no log, or a line that is not JSON: the generic message stands
        }
        message = message.replace(root.toString(), "<sandbox>");
        return message.length() > 500 ? message.substring(0, 500) : message;
    }

    /** Called by an execution when its container is gone: deletes it from runc and gives its image root back. */
    private void finish(RuncExecution execution) {
        try {
            deleteContainer(execution.id());
        } finally {
            executions.remove(execution.id(), execution);
            images.release(execution.image());
            try {
                images.evict();
            } catch (IOException | RuntimeException e) {
                LOG.warn("evicting image roots failed", e);
            }
        }
    }

    @Override
    public Set<String> present() throws IOException {
        Set<String> ids = new HashSet<>(executions.keySet());
        Commands.Result list = Commands.attempt(runc("list", "-q"), COMMAND_LIMIT);
        if (!list.ok()) {
            throw new IOException("runc list failed: " + list.output().strip());
        }
        list.output().lines().map(String::strip).filter(s -> ID.matcher(s).matches()).forEach(ids::add);
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(runs)) {
            for (Path d : dirs) {
                if (ID.matcher(d.getFileName().toString()).matches()) {
                    ids.add(d.getFileName().toString());
                }
            }
        }
        return Set.copyOf(ids);
    }

    @Override
    public void remove(String id) throws IOException {
        checkId(id);
        RuncExecution execution = executions.get(id);
        if (execution != null) {
            execution.stop(Duration.ZERO);
        }
        Commands.attempt(runc("kill", "--all", id, "KILL"), COMMAND_LIMIT);
        if (execution != null) {
            execution.awaitExit(KILLED_LIMIT);
        }
        deleteContainer(id);
        Path run = runs.resolve(id);
        // Port bridges a crashed instance left (this instance's end with their container).
        PortBridges.killLeftovers(run);
        // Unmounting ends the file system's keyring: the volume's key and its plaintext caches go with it.
        Path fs = run.resolve("fs");
        if (isMountPoint(fs)) {
            Commands.Result umount = Commands.attempt(List.of("umount", fs.toString()), COMMAND_LIMIT);
            if (!umount.ok()) {
                // Busy (a process of a crashed run still inside): detach it now; the kernel frees it when the last user goes.
                Commands.run(List.of("umount", "--lazy", fs.toString()), COMMAND_LIMIT);
            }
        }
        Path image = run.resolve("volume.img");
        if (Files.exists(image)) {
            for (String line : Commands.attempt(List.of("losetup", "--associated", image.toString()), COMMAND_LIMIT).output().lines().toList()) {
                int colon = line.indexOf(':');
                if (line.startsWith("/dev/loop") && colon > 0) {
                    Commands.attempt(List.of("losetup", "--detach", line.substring(0, colon)), COMMAND_LIMIT);
                }
            }
        }
        if (isMountPoint(fs)) {
            throw new IOException("the volume of run " + id + " is still mounted");
        }
        deleteTree(run);
        // The run directory no longer pins its image root.
        images.evict();
    }

    /** Stops every container this instance started (SIGTERM, SIGKILL after each spec's grace) and waits for them. */
    @Override
    public void close() {
        List<RuncExecution> live = new ArrayList<>(executions.values());
        for (RuncExecution e : live) {
            e.stop(e.spec().grace());
        }
        for (RuncExecution e : live) {
            e.awaitExit(e.spec().grace().plus(KILLED_LIMIT));
        }
    }

    /** Bytes of unpacked image roots held now. */
    public long imageCacheBytes() throws IOException {
        return images.bytes();
    }

    /** The digests ({@code sha256:…}) whose unpacked roots are cached. */
    public Set<String> cachedImages() throws IOException {
        return Set.copyOf(images.digests().stream().map(h -> "sha256:" + h).toList());
    }

    /** Every runc call names the sandbox's own state root, so {@code runc list} shows exactly its containers. */
    List<String> runc(String... args) {
        List<String> command = new ArrayList<>(List.of("runc", "--root", state.toString()));
        command.addAll(List.of(args));
        return command;
    }

    void kill(String id, String signal) {
        try {
            Commands.attempt(runc("kill", "--all", id, signal), COMMAND_LIMIT);
        } catch (IOException e) {
            LOG.warn("runc kill {} {} failed", id, signal, e);
        }
    }

    private void deleteContainer(String id) {
        try {
            Commands.attempt(runc("delete", "--force", id), COMMAND_LIMIT);
        } catch (IOException e) {
            LOG.warn("runc delete {} failed", id, e);
        }
    }

    /** The digests that run directories name: a run of a crashed process may still use its root. */
    private Set<String> pinnedImages() {
        Set<String> pinned = new HashSet<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(runs)) {
            for (Path d : dirs) {
                try {
                    pinned.add(Files.readString(d.resolve("image")).strip());
                } catch (NoSuchFileException e) {
                    // a run with a volume and no container yet
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pinned;
    }

    private static void checkId(String id) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad run id");
        }
    }

    private static boolean isMountPoint(Path path) throws IOException {
        String target = path.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && unescape(fields[4]).equals(target)) {
                return true;
            }
        }
        return false;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** The OCI runtime configuration of a run: the isolation is all here. */
    static ObjectNode config(String id, ContainerSpec spec, ImageRoots.Root image, Path volume) throws SandboxException {
        ImageRoots.ImageConfig ic = image.config();
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("ociVersion", "1.0.2");
        ObjectNode process = c.putObject("process");
        process.put("terminal", false);
        int[] user = user(ic.user());
        process.putObject("user").put("uid", user[0]).put("gid", user[1]);
        ArrayNode args = process.putArray("args");
        arguments(spec, ic).forEach(args::add);
        ArrayNode env = process.putArray("env");
        environment(spec, ic).forEach((k, v) -> env.add(k + "=" + v));
        process.put("cwd", ic.workingDir().startsWith("/") ? ic.workingDir() : "/");
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            caps.putArray(set);
        }
        process.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", 1024).put("soft", 1024);
        process.put("noNewPrivileges", true);
        c.putObject("root").put("path", image.rootfs().toString()).put("readonly", true);
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
        // The volume first, so that mounts below it (input channels) are made inside it, not in the shared root.
        mount(mounts, spec.volumePath(), "bind", volume.toString(), "rbind", "rw", "nosuid", "nodev");
        for (ContainerSpec.Mount m : spec.mounts()) {
            mount(mounts, m.destination(), "bind", m.source().toAbsolutePath().toString(), "rbind", m.readOnly() ? "ro" : "rw", "nosuid",
                    "nodev");
        }
        ObjectNode linux = c.putObject("linux");
        linux.putArray("uidMappings").addObject().put("containerID", 0).put("hostID", HOST_ID_BASE).put("size", ID_RANGE);
        linux.putArray("gidMappings").addObject().put("containerID", 0).put("hostID", HOST_ID_BASE).put("size", ID_RANGE);
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String ns : List.of("pid", "network", "ipc", "uts", "mount", "user", "cgroup")) {
            namespaces.addObject().put("type", ns);
        }
        ObjectNode resources = linux.putObject("resources");
        ContainerSpec.Limits limits = spec.limits();
        resources.putObject("memory").put("limit", limits.memoryBytes()).put("swap", limits.memoryBytes());
        resources.putObject("pids").put("limit", limits.pids());
        if (limits.cpus() > 0) {
            long period = 100_000;
            resources.putObject("cpu").put("quota", Math.max(1_000, Math.round(limits.cpus() * period))).put("period", period);
        }
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
        linux.set("seccomp", SeccompProfile.json());
        return c;
    }

    /** Entrypoint then Cmd, with docker run's overrides: an entrypoint replaces both, arguments replace Cmd. */
    static List<String> arguments(ContainerSpec spec, ImageRoots.ImageConfig image) throws SandboxException {
        List<String> args = new ArrayList<>(spec.entrypoint().orElse(image.entrypoint()));
        if (!spec.arguments().isEmpty()) {
            args.addAll(spec.arguments());
        } else if (spec.entrypoint().isEmpty()) {
            args.addAll(image.cmd());
        }
        if (args.isEmpty()) {
            throw new SandboxException("the image names no command and the job gives none");
        }
        return args;
    }

    /** The image's environment overlaid by the spec's; PATH as Docker sets it when neither has one. */
    static Map<String, String> environment(ContainerSpec spec, ImageRoots.ImageConfig image) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String entry : image.env()) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        env.putAll(spec.environment());
        env.putIfAbsent("PATH", DEFAULT_PATH);
        return env;
    }

    /** A numeric {@code uid[:gid]} as the image says; anything else runs as root in the namespace. */
    static int[] user(String user) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,5})(?::(\\d{1,5}))?").matcher(user);
        if (m.matches()) {
            int uid = Integer.parseInt(m.group(1));
            int gid = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
            if (uid < ID_RANGE && gid < ID_RANGE) {
                return new int[] {uid, gid};
            }
        }
        return new int[] {0, 0};
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

    /** Deletes a tree without following symbolic links. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
