package dev.citadel.services.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The port bridges of one runc run: how Citadel reaches a TCP port a container listens on inside
 * its own network namespace, which has only loopback (DESIGN.md §6, the serving bridge).
 *
 * <p>On the first connection to a port, a host process is started in the container's network
 * namespace and nothing else of it:
 * {@code nsenter --net=/proc/<init pid>/ns/net socat UNIX-LISTEN:<run dir>/port-<port>.sock,fork,mode=600 TCP4:127.0.0.1:<port>}.
 * socat stays in the host's mount namespace, so the socket is a host file in the run directory
 * (which only root may list; the container's mapped group may only traverse it to reach its
 * volume), owned by root with mode 0600: only Citadel can connect. Each connection to the socket
 * is one forked socat and one TCP connection to the port on the container's loopback; there is no
 * IP path between the container and anything else. The container cannot see or signal socat (it
 * is in the host's PID namespace and user, the container in its own).
 *
 * <p>The init pid (from {@code runc run --pid-file}) could in principle be reused by another
 * process once the container ended; so the namespace is read when the container was just created,
 * and the bridge's own namespace is checked against it once it listens (and must differ from the
 * host's): a bridge anywhere else is killed and the connection refused.
 *
 * <p>Bridges end with the container ({@link #close}, called by the supervisor before the exit
 * completes); {@link #killLeftovers} finds those a crashed instance left by their command line.
 */
final class PortBridges {
    private static final Logger LOG = LoggerFactory.getLogger(PortBridges.class);
    /** A Unix socket's path (sun_path) holds at most this many bytes. */
    static final int MAX_SOCKET_PATH = 107;
    private static final Duration LISTEN_LIMIT = Duration.ofSeconds(10);
    private static final Duration KILL_LIMIT = Duration.ofSeconds(5);
    private static final int KEPT_OUTPUT = 4096;
    /** Characters socat's address syntax takes literally in a path. */
    private static final Pattern PLAIN_PATH = Pattern.compile("[A-Za-z0-9/._+-]+");
    private static final String LISTEN = "UNIX-LISTEN:";

    private final String id;
    private final Path runDirectory;
    private final Path pidFile;
    private final Map<Integer, Bridge> bridges = new HashMap<>(); // guarded by this
    private String netns; // guarded by this; "net:[inode]" of the container, read at creation
    private boolean closed; // guarded by this

    private record Bridge(Process process, Path socket, ByteArrayOutputStream output) {
    }

    PortBridges(String id, Path runDirectory, Path pidFile) {
        this.id = id;
        this.runDirectory = runDirectory;
        this.pidFile = pidFile;
    }

    /** Reads the container's network namespace; called right after runc wrote the pid file. */
    synchronized void created() {
        try {
            String ns = namespaceOf(initPid());
            if (!ns.equals(namespaceOf(ProcessHandle.current().pid()))) {
                netns = ns;
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("container {}: its network namespace could not be read; its ports cannot be reached", id, e);
        }
    }

    ByteChannel connect(int port) throws IOException {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad port");
        }
        Path socket = bridge(port);
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new SandboxException("the container's port " + port + " cannot be reached: its bridge is gone", e);
        }
    }

    /** The bridge's socket for {@code port}, started now when there is none (or it died). */
    private synchronized Path bridge(int port) throws IOException {
        if (closed) {
            throw new SandboxException("the container has ended");
        }
        Bridge b = bridges.get(port);
        if (b != null && b.process().isAlive()) {
            return b.socket();
        }
        if (b != null) {
            bridges.remove(port);
            kill(b);
        }
        b = start(port);
        bridges.put(port, b);
        return b.socket();
    }

    private Bridge start(int port) throws IOException {
        if (netns == null) {
            throw new SandboxException("the container's network namespace is unknown, so its ports cannot be reached");
        }
        Path socket = runDirectory.resolve("port-" + port + ".sock");
        String path = socket.toString();
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new SandboxException("the port bridge's socket path would exceed " + MAX_SOCKET_PATH
                    + " bytes: use a shorter sandbox directory or run id");
        }
        if (!PLAIN_PATH.matcher(path).matches()) {
            throw new SandboxException("the sandbox directory's path holds characters a port bridge cannot name");
        }
        Optional<Path> nsenter = executable("nsenter");
        Optional<Path> socat = executable("socat");
        if (nsenter.isEmpty() || socat.isEmpty()) {
            throw new SandboxException("reaching a container's port needs nsenter (util-linux) and socat (the Debian package socat) on the host; "
                    + (nsenter.isEmpty() ? "nsenter" : "socat") + " was not found on the PATH");
        }
        long pid = initPid();
        Files.deleteIfExists(socket);
        Process process;
        try {
            process = new ProcessBuilder(nsenter.get().toString(), "--net=/proc/" + pid + "/ns/net", "--", socat.get().toString(),
                    LISTEN + path + ",fork,mode=600,unlink-early,backlog=128", "TCP4:127.0.0.1:" + port + ",nodelay")
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new SandboxException("the port bridge could not be started: " + e.getMessage(), e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread.ofVirtual().name("sandbox-bridge-" + id + "-" + port).start(() -> drain(process.getInputStream(), output));
        Bridge bridge = new Bridge(process, socket, output);
        boolean ok = false;
        try {
            awaitListening(bridge);
            // nsenter execs socat in place: the process is socat, and must be in the container's namespace.
            String actual = namespaceOf(process.pid());
            if (!actual.equals(netns)) {
                throw new SandboxException("the port bridge is not in the container's network namespace (the container has ended)");
            }
            PosixFileAttributes a = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isOther() || !"root".equals(a.owner().getName())
                    || !PosixFilePermissions.toString(a.permissions()).equals("rw-------")) {
                throw new SandboxException("the port bridge's socket is not a root-only socket");
            }
            ok = true;
            return bridge;
        } finally {
            if (!ok) {
                kill(bridge);
            }
        }
    }

    private void awaitListening(Bridge bridge) throws IOException {
        long deadline = System.nanoTime() + LISTEN_LIMIT.toNanos();
        try {
            // socat creates the socket, then sets its mode: wait for both (a connection may be refused in between otherwise).
            while (!listening(bridge.socket())) {
                if (!bridge.process().isAlive()) {
                    bridge.process().waitFor(1, TimeUnit.SECONDS);
                    throw new SandboxException("the port bridge could not start: " + output(bridge));
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new SandboxException("the port bridge did not listen within " + LISTEN_LIMIT);
                }
                Thread.sleep(2);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while starting a port bridge");
        }
    }

    private static boolean listening(Path socket) throws IOException {
        try {
            PosixFileAttributes a = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isOther() && PosixFilePermissions.toString(a.permissions()).equals("rw-------");
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** What socat said, without the sandbox's paths (it may be shown to the run's owner). */
    private String output(Bridge bridge) {
        String text;
        synchronized (bridge.output()) {
            text = bridge.output().toString(StandardCharsets.UTF_8).strip();
        }
        text = text.replace(runDirectory.toString(), "<run>");
        return text.isEmpty() ? "exit " + bridge.process().exitValue() : text.length() > 500 ? text.substring(0, 500) : text;
    }

    /** Kills every bridge; no port can be reached afterwards. Called when the container has ended. */
    void close() {
        List<Bridge> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(bridges.values());
            bridges.clear();
        }
        all.forEach(PortBridges::kill);
    }

    private static void kill(Bridge bridge) {
        // The forked per-connection children first, then the listener (which would otherwise fork again).
        bridge.process().descendants().forEach(ProcessHandle::destroyForcibly);
        bridge.process().destroyForcibly();
        try {
            if (!bridge.process().waitFor(KILL_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("a port bridge (pid {}) did not end after SIGKILL", bridge.process().pid());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        bridge.process().descendants().forEach(ProcessHandle::destroyForcibly);
        try {
            Files.deleteIfExists(bridge.socket());
        } catch (IOException e) {
            LOG.warn("deleting {} failed", bridge.socket(), e);
        }
    }

    /**
     * Kills every socat listening (or forked from one listening) on a socket of {@code runDirectory}:
     * the bridges a crashed instance of Citadel left. Found by their command line in {@code /proc}.
     */
    static void killLeftovers(Path runDirectory) {
        String prefix = LISTEN + runDirectory.toAbsolutePath().normalize() + "/port-";
        List<ProcessHandle> found = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                byte[] cmdline;
                try {
                    cmdline = Files.readAllBytes(proc.resolve("cmdline"));
                } catch (IOException e) {
                    continue; // gone meanwhile
                }
                for (String arg : new String(cmdline, StandardCharsets.UTF_8).split("\0")) {
                    if (arg.startsWith(prefix)) {
                        ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(found::add);
                        break;
                    }
                }
            }
        } catch (IOException e) {
            LOG.warn("looking for port bridges left in {} failed", runDirectory, e);
        }
        for (ProcessHandle h : found) {
            LOG.info("killing port bridge {} left by an earlier run", h.pid());
            h.destroyForcibly();
        }
        for (ProcessHandle h : found) {
            try {
                h.onExit().get(KILL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                LOG.warn("port bridge {} did not end after SIGKILL", h.pid());
            }
        }
    }

    private long initPid() throws IOException {
        try {
            return Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException | NumberFormatException e) {
            throw new SandboxException("the container's process is unknown");
        }
    }

    private static String namespaceOf(long pid) throws IOException {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
        } catch (NoSuchFileException e) {
            throw new SandboxException("the container's process is gone");
        }
    }

    private static Optional<Path> executable(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, name);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    private static void drain(InputStream in, ByteArrayOutputStream kept) {
        byte[] buffer = new byte[4096];
        try (in) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                synchronized (kept) {
                    kept.write(buffer, 0, Math.max(0, Math.min(n, KEPT_OUTPUT - kept.size())));
                }
            }
        } catch (IOException e) {
            // the bridge ended
        }
    }
}
