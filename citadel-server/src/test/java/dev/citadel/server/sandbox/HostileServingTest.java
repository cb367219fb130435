package dev.citadel.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.images.HostileServingImage;
import dev.citadel.services.sagemaker.InstanceTypes;
import dev.citadel.services.sagemaker.ServingContainer;
import dev.citadel.services.sandbox.ContainerHttp;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.RuncSandbox;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A hostile serving image can reach nothing: the techniques of {@link RuncSandboxTest}, and those
 * only a serving container has, tried by a container started from exactly the spec endpoints and
 * transform jobs use ({@link ServingContainer#spec}) in the runc sandbox and called only through
 * its port bridge ({@link ServingContainer#http}), as Citadel calls it. The container
 * ({@link HostileServingImage}) keeps serving and, per invocation, tries the technique the request
 * names and answers what happened; each test asserts that it failed, that what it aimed at on the
 * host heard nothing or is unchanged, and that the container still answers {@code GET /ping} (or,
 * where the technique ends the container, that the kernel ended it, that nothing else noticed,
 * and that a container started in its place serves).
 *
 * <p>Two serving containers ("first" and "second") stand for two endpoints and serve every test
 * but the one that kills its own. The limits are the test's (a 512 MiB instance, 64 processes, a
 * 64 MiB volume) so that hitting them is quick; the spec is production's.
 */
@Tag("runs-once")
class HostileServingTest {
    private static final long VOLUME = 64L << 20;
    private static final InstanceTypes.Profile INSTANCE = new InstanceTypes.Profile(1.0, 512L << 20);
    private static final int PIDS = 64;
    private static final long OUTPUT = 1L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String MODEL = "model.bin";
    private static final String WEIGHTS = "weights of the first endpoint\n";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static Path base;
    private static Path sandboxRoot;
    private static RuncSandbox sandbox;
    private static ContainerSpec.Image hostile;
    private static Serving first;
    private static Serving second;

    /** A started serving container: its run, model directory (on the host), process and client. */
    record Serving(String id, Path modelDirectory, Execution execution, ContainerHttp http) {
        /** Invokes the technique with its arguments and returns the lines the container answered. */
        List<String> attempt(String technique, Map<String, ?> arguments) throws IOException {
            Map<String, Object> body = new LinkedHashMap<>(arguments);
            body.put("technique", technique);
            ContainerHttp.Response r = http.exchange(new ContainerHttp.Request("POST", "/invocations", Map.of("Content-Type", "application/json"),
                    JSON.writeValueAsBytes(body)), TIMEOUT, 1 << 20);
            String text = new String(r.body(), StandardCharsets.UTF_8);
            System.out.println(id + " " + technique + " " + arguments + " -> " + r.status() + ":\n  " + text.strip().replace("\n", "\n  "));
            assertThat(r.status()).as(text).isEqualTo(200);
            return text.lines().toList();
        }

        String ping() throws IOException {
            ContainerHttp.Response r = http.exchange(new ContainerHttp.Request("GET", "/ping", Map.of(), null), Duration.ofSeconds(10), 1024);
            assertThat(r.status()).isEqualTo(200);
            return new String(r.body(), StandardCharsets.UTF_8);
        }

        Path socket() {
            return runDirectory(id).resolve("port-" + ServingContainer.PORT + ".sock");
        }

        long hostPid() throws IOException {
            return Long.parseLong(Files.readString(runDirectory(id).resolve("pid")).strip());
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        long started = System.nanoTime();
        base = Files.createTempDirectory("citadel-hostile-serving-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        sandboxRoot = base.resolve("sandbox");
        sandbox = new RuncSandbox(sandboxRoot, 4L << 30);
        hostile = ServingBridgeTest.image(HostileServingImage.build(base.resolve("image")), HostileServingImage.TAG);
        long built = System.nanoTime();
        first = serve("first");
        second = serve("second");
        awaitPing(first);
        awaitPing(second);
        System.out.printf("image built in %d ms, both containers answered /ping %d ms later%n", (built - started) / 1_000_000,
                (System.nanoTime() - built) / 1_000_000);
    }

    @AfterAll
    static void tearDown() throws Exception {
        long started = System.nanoTime();
        for (Serving s : new Serving[] {first, second}) {
            if (s != null) {
                s.http().close();
            }
        }
        if (sandbox != null) {
            for (String id : sandbox.present()) {
                sandbox.remove(id);
            }
            sandbox.close();
        }
        long removed = System.nanoTime();
        Process p = new ProcessBuilder("rm", "-rf", base.toString()).inheritIO().start();
        p.waitFor(60, TimeUnit.SECONDS);
        System.out.printf("containers removed in %d ms, files in %d ms%n", (removed - started) / 1_000_000, (System.nanoTime() - removed) / 1_000_000);
    }

    /** Starts a serving container as EndpointManager does: a volume, the model unpacked into its {@code model}, production's spec. */
    static Serving serve(String name) throws IOException {
        String id = "h" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
        Path volume = sandbox.createVolume(id, VOLUME);
        Path modelDirectory = Files.createDirectories(volume.resolve("model"));
        Files.writeString(modelDirectory.resolve(MODEL), WEIGHTS);
        ContainerSpec spec = ServingContainer.spec(hostile, Map.of("CITADEL_TEST_NAME", name), modelDirectory, INSTANCE, PIDS, OUTPUT);
        Execution execution = sandbox.start(id, spec, (Instant at, String line) -> System.out.println("[" + name + " " + id + "] " + line));
        return new Serving(id, modelDirectory, execution, ServingContainer.http(execution));
    }

    static void awaitPing(Serving s) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                s.ping();
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline || s.execution().exit().isDone()) {
                    throw new AssertionError("serving container " + s.id() + " never answered /ping", e);
                }
                Thread.sleep(100);
            }
        }
    }

    static Path runDirectory(String id) {
        return sandboxRoot.resolve("runs").resolve(id);
    }

    /** Both containers still serve, each itself. */
    static void bothStillServe() throws IOException {
        assertThat(first.ping()).isEqualTo("first");
        assertThat(second.ping()).isEqualTo("second");
    }

    /** The host's addresses other than loopback (IPv4 and IPv6, link-local ones aside). */
    static List<InetAddress> otherHostAddresses() throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
            if (!nif.isLoopback() && nif.isUp()) {
                nif.inetAddresses().filter(a -> !a.isLinkLocalAddress()).forEach(addresses::add);
            }
        }
        assertThat(addresses).as("this host needs a non-loopback address for the test to mean anything").isNotEmpty();
        return addresses;
    }

    static List<InetAddress> loopbackAddresses() throws IOException {
        return List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1"));
    }

    static String host(InetAddress a) {
        String h = a.getHostAddress();
        int scope = h.indexOf('%');
        return scope < 0 ? h : h.substring(0, scope);
    }

    static List<Object> target(InetAddress a, int port) {
        return List.of(host(a), port);
    }

    private static void assertNothingAccepted(ServerSocket s) throws IOException {
        s.setSoTimeout(200);
        try {
            s.accept().close();
            throw new AssertionError("a connection reached " + s.getLocalSocketAddress());
        } catch (SocketTimeoutException expected) {
            // nothing arrived
        }
    }

    private static void assertNothingReceived(DatagramSocket s) throws IOException {
        s.setSoTimeout(200);
        try {
            s.receive(new DatagramPacket(new byte[64], 64));
            throw new AssertionError("a datagram reached " + s.getLocalSocketAddress());
        } catch (SocketTimeoutException expected) {
            // nothing arrived
        }
    }

    // --- the network ---------------------------------------------------------------------------------------------------------------

    @Test
    void tcpToListenersOnTheHostsLoopbackReachesOnlyTheContainersOwnLoopback() throws Exception {
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            List<List<Object>> targets = new ArrayList<>();
            // The positive control: the container's own server on its own loopback.
            targets.add(List.of("127.0.0.1", ServingContainer.PORT));
            List<String> expected = new ArrayList<>(List.of("tcp 127.0.0.1 " + ServingContainer.PORT + " allowed"));
            for (InetAddress a : loopbackAddresses()) {
                ServerSocket s = new ServerSocket(0, 50, a);
                listeners.add(s);
                targets.add(target(a, s.getLocalPort()));
                expected.add("tcp " + host(a) + " " + s.getLocalPort() + " refused 111");
            }
            assertThat(first.attempt("tcp", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            for (ServerSocket s : listeners) {
                assertNothingAccepted(s);
            }
        } finally {
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
        bothStillServe();
    }

    @Test
    void tcpToListenersOnTheHostsOtherAddressesFindsNoRoute() throws Exception {
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            List<List<Object>> targets = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (InetAddress a : otherHostAddresses()) {
                ServerSocket s = new ServerSocket(0, 50, a);
                listeners.add(s);
                targets.add(target(a, s.getLocalPort()));
                expected.add("tcp " + host(a) + " " + s.getLocalPort() + " refused 101");
            }
            assertThat(first.attempt("tcp", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            for (ServerSocket s : listeners) {
                assertNothingAccepted(s);
            }
        } finally {
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
        bothStillServe();
    }

    @Test
    void theHostsCitadelListenerIsUnreachableOnEveryAddress() throws Exception {
        // Citadel listens on 127.0.0.1:8443 by default, or on the wildcard address: a listener on the wildcard address stands for it.
        try (ServerSocket citadel = new ServerSocket()) {
            citadel.bind(new InetSocketAddress((InetAddress) null, 0));
            List<List<Object>> targets = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int port : new int[] {citadel.getLocalPort(), 8443}) {
                for (InetAddress a : loopbackAddresses()) {
                    targets.add(target(a, port));
                    expected.add("tcp " + host(a) + " " + port + " refused 111");
                }
                for (InetAddress a : otherHostAddresses()) {
                    targets.add(target(a, port));
                    expected.add("tcp " + host(a) + " " + port + " refused 101");
                }
            }
            assertThat(first.attempt("tcp", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            assertNothingAccepted(citadel);
        }
        bothStillServe();
    }

    @Test
    void udpToTheHostsLoopbackReachesOnlyTheContainersOwnLoopback() throws Exception {
        List<DatagramSocket> listeners = new ArrayList<>();
        try {
            List<List<Object>> targets = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (InetAddress a : loopbackAddresses()) {
                DatagramSocket s = new DatagramSocket(0, a);
                listeners.add(s);
                targets.add(target(a, s.getLocalPort()));
                String name = "udp " + host(a) + " " + s.getLocalPort();
                // Sent, and the ICMP port unreachable of the container's own loopback came back.
                expected.addAll(List.of(name + " allowed", name + " answer refused 111"));
            }
            assertThat(first.attempt("udp", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            for (DatagramSocket s : listeners) {
                assertNothingReceived(s);
            }
        } finally {
            for (DatagramSocket s : listeners) {
                s.close();
            }
        }
        bothStillServe();
    }

    @Test
    void udpToTheHostsOtherAddressesFindsNoRoute() throws Exception {
        List<DatagramSocket> listeners = new ArrayList<>();
        try {
            List<List<Object>> targets = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (InetAddress a : otherHostAddresses()) {
                DatagramSocket s = new DatagramSocket(0, a);
                listeners.add(s);
                targets.add(target(a, s.getLocalPort()));
                expected.add("udp " + host(a) + " " + s.getLocalPort() + " refused 101");
            }
            assertThat(first.attempt("udp", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            for (DatagramSocket s : listeners) {
                assertNothingReceived(s);
            }
        } finally {
            for (DatagramSocket s : listeners) {
                s.close();
            }
        }
        bothStillServe();
    }

    @Test
    void namesDoNotResolveAndNoNameServerIsReachable() throws Exception {
        List<String> servers = new ArrayList<>(List.of("127.0.0.1", "127.0.0.53", "::1"));
        // The host's own name servers.
        Files.readAllLines(Path.of("/etc/resolv.conf")).stream().map(String::strip).filter(l -> l.startsWith("nameserver "))
                .map(l -> l.substring("nameserver ".length()).strip()).filter(s -> !servers.contains(s)).forEach(servers::add);
        servers.add(host(otherHostAddresses().getFirst()));
        List<String> lines = first.attempt("dns", Map.of("servers", servers));
        assertThat(lines.getFirst()).startsWith("resolve refused ");
        List<String> expected = new ArrayList<>(List.of(lines.getFirst()));
        for (String s : servers) {
            String errno = s.startsWith("127.") || s.equals("::1") ? "111" : "101";
            expected.addAll(List.of("dns-udp " + s + " refused " + errno, "dns-tcp " + s + " refused " + errno));
        }
        assertThat(lines).containsExactlyElementsOf(expected);
        bothStillServe();
    }

    @Test
    void rawAndPacketSocketsAreRefusedAndOnlyLoopbackIsThere() throws Exception {
        assertThat(first.attempt("raw", Map.of())).containsExactly("interfaces ['lo']", "raw-icmp refused 1", "raw-icmpv6 refused 1",
                "raw-tcp refused 1", "packet refused 1", "packet-dgram refused 1", "udp-socket allowed");
        bothStillServe();
    }

    // --- what only serving has: the bridge, Citadel, other endpoints ----------------------------------------------------------------

    @Test
    void theBridgesSocketsAndTheHostsUnixSocketsAreUnreachable() throws Exception {
        Path hostSocket = base.resolve("host.sock");
        Path abstractGot = base.resolve("abstract-got");
        String abstractName = "citadel-hostile-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Process abstractListener = new ProcessBuilder("socat", "-u", "ABSTRACT-LISTEN:" + abstractName + ",fork",
                "OPEN:" + abstractGot + ",creat,append").redirectErrorStream(true).start();
        try (ServerSocketChannel unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            unix.bind(UnixDomainSocketAddress.of(hostSocket));
            unix.configureBlocking(false);
            Files.setPosixFilePermissions(hostSocket, PosixFilePermissions.fromString("rwxrwxrwx"));
            awaitAbstractListener(abstractName);
            assertThat(first.socket()).as("the first's bridge runs").exists();
            assertThat(second.socket()).as("the second's bridge runs").exists();

            List<String> paths = List.of(first.socket().toString(), second.socket().toString(), hostSocket.toString());
            assertThat(first.attempt("unix", Map.of("paths", paths, "abstract", List.of(abstractName)))).containsExactly(
                    "unix " + first.socket() + " refused 2", "unix " + second.socket() + " refused 2", "unix " + hostSocket + " refused 2",
                    // abstract sockets belong to a network namespace: the container's has none of the host's
                    "abstract " + abstractName + " refused 111");

            assertThat(unix.accept()).as("a connection to the host's Unix socket").isNull();
            // The positive control: the abstract listener takes a connection from the host.
            Process control = new ProcessBuilder("sh", "-c", "echo host | socat -u - ABSTRACT-CONNECT:" + abstractName).redirectErrorStream(true)
                    .start();
            assertThat(control.waitFor(10, TimeUnit.SECONDS)).isTrue();
            awaitFile(abstractGot, "host\n");
        } finally {
            abstractListener.destroy();
            abstractListener.waitFor(10, TimeUnit.SECONDS);
        }
        bothStillServe();
    }

    private static void awaitAbstractListener(String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(Path.of("/proc/net/unix")).contains("@" + name)) {
            assertThat(System.nanoTime()).as("socat listens on @" + name).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static void awaitFile(Path file, String content) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(file) || !Files.readString(file).equals(content)) {
            assertThat(System.nanoTime()).as(file + " holds " + content.strip()).isLessThan(deadline);
            Thread.sleep(20);
        }
        Thread.sleep(200);
        assertThat(Files.readString(file)).isEqualTo(content);
    }

    @Test
    void twoServingContainersCannotReachEachOther() throws Exception {
        for (Serving[] pair : new Serving[][] {{first, second}, {second, first}}) {
            Serving self = pair[0];
            Serving other = pair[1];
            String name = self == first ? "first" : "second";
            List<List<Object>> targets = new ArrayList<>();
            targets.add(List.of("127.0.0.1", ServingContainer.PORT, "/ping"));
            targets.add(List.of("::1", ServingContainer.PORT, "/ping"));
            List<String> expected = new ArrayList<>(List.of("get 127.0.0.1 8080 /ping allowed", "body " + name,
                    "get ::1 8080 /ping refused 111"));
            for (InetAddress a : otherHostAddresses()) {
                targets.add(List.of(host(a), ServingContainer.PORT, "/ping"));
                expected.add("get " + host(a) + " 8080 /ping refused 101");
            }
            // Port 8080 on its loopback is its own server, never the other's; nothing else leads anywhere.
            assertThat(self.attempt("http-get", Map.of("targets", targets))).containsExactlyElementsOf(expected);
            assertThat(self.attempt("unix", Map.of("paths", List.of(other.socket().toString()))))
                    .containsExactly("unix " + other.socket() + " refused 2");
        }
        bothStillServe();
    }

    // --- files ---------------------------------------------------------------------------------------------------------------------

    @Test
    void hostFilesAreNotVisible() throws Exception {
        String marker = "citadel-secret-" + ProcessHandle.current().pid() + "-";
        Path secret = Files.createTempFile(base, marker, ".txt");
        Path tmpSecret = Files.createTempFile(marker, ".txt");
        Files.writeString(secret, "host-secret-7f3a");
        Files.writeString(tmpSecret, "host-secret-7f3a");
        try {
            List<String> paths = List.of(secret.toString(), tmpSecret.toString(), "/proc/1/root" + tmpSecret,
                    first.modelDirectory().resolve(MODEL).toString(), runDirectory(first.id()).resolve("bundle/config.json").toString());
            List<String> expected = new ArrayList<>();
            for (String p : paths) {
                expected.add("read " + p + " refused 2");
            }
            expected.add("found []");
            assertThat(second.attempt("read", Map.of("paths", paths, "marker", marker))).containsExactlyElementsOf(expected);
        } finally {
            Files.delete(tmpSecret);
        }
        bothStillServe();
    }

    @Test
    void onlyTheVolumeAndTmpAreWritable() throws Exception {
        Path hostFile = Files.writeString(base.resolve("host-file.txt"), "host\n");
        List<String> paths = List.of("/planted", "/usr/planted", "/etc/planted", "/usr/local/bin/serve", "/proc/sys/kernel/hostname",
                "/sys/planted", hostFile.toString(), "/opt/ml/planted", "/tmp/planted");
        assertThat(first.attempt("write", Map.of("paths", paths))).containsExactly("write /planted refused 30", "write /usr/planted refused 30",
                "write /etc/planted refused 30", "write /usr/local/bin/serve refused 30", "write /proc/sys/kernel/hostname refused 30",
                "write /sys/planted refused 30", "write " + hostFile + " refused 2", "write /opt/ml/planted allowed", "write /tmp/planted allowed");
        assertThat(Files.readString(hostFile)).isEqualTo("host\n");
        // The shared image root is as the image made it.
        try (var roots = Files.list(sandboxRoot.resolve("images"))) {
            for (Path root : roots.toList()) {
                assertThat(root.resolve("rootfs/usr/local/bin/serve")).hasBinaryContent(HostileServingImage.program());
                assertThat(root.resolve("rootfs/planted")).doesNotExist();
            }
        }
        bothStillServe();
    }

    @Test
    void theModelDirectoryIsReadOnly() throws Exception {
        assertThat(first.attempt("model", Map.of("file", MODEL))).containsExactly("model ['" + MODEL + "']", "create refused 30",
                "overwrite refused 30", "append refused 30", "truncate refused 30", "unlink refused 30", "rename refused 30", "chmod refused 30",
                "mkdir refused 30", "symlink refused 30", "link refused 18", "rename-directory refused 16", "remount-rw refused 1",
                "mount /opt/ml/model ro");
        try (var files = Files.list(first.modelDirectory())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly(MODEL);
        }
        assertThat(Files.readString(first.modelDirectory().resolve(MODEL))).isEqualTo(WEIGHTS);
        assertThat(first.modelDirectory().getParent().resolve("linked")).doesNotExist();
        bothStillServe();
    }

    // --- privilege -----------------------------------------------------------------------------------------------------------------

    @Test
    void theProcessHasNoPrivilegeAndCannotGainAny() throws Exception {
        assertThat(first.attempt("ids", Map.of())).containsExactly("CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2",
                "uid_map 0 " + RuncSandbox.HOST_ID_BASE + " 65536", "setuid refused 1", "setgid refused 1", "setgroups refused 1",
                "chroot refused 1", "unshare-user refused 1", "unshare-net refused 1", "unshare-mount refused 1", "mount-tmpfs refused 1",
                "remount-root-rw refused 1", "bpf refused 1", "init_module refused 1", "ids 0 0");
        bothStillServe();
    }

    @Test
    void aSetuidCopyGainsNothing() throws Exception {
        assertThat(first.attempt("setuid-copy", Map.of())).containsExactly("mode -rwsr-xr-x", "CapPrm:\t0000000000000000",
                "CapEff:\t0000000000000000", "NoNewPrivs:\t1");
        bothStillServe();
    }

    @Test
    void signalsReachOnlyTheContainersOwnProcesses() throws Exception {
        long bridge = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("UNIX-LISTEN:" + first.socket()))
                .findFirst().orElseThrow().pid();
        List<Long> pids = List.of(bridge, ProcessHandle.current().pid(), second.hostPid(), first.hostPid());
        List<String> lines = first.attempt("signals", Map.of("pids", pids));
        List<String> expected = new ArrayList<>();
        for (long pid : pids) {
            expected.add("signal " + pid + " refused 3");
        }
        // kill(-1) reaches every process of its own namespace but init: here the sleeping victim.
        expected.addAll(List.of("pid 1", "kill-all allowed", "victim ended -9", "processes [1]"));
        assertThat(lines).containsExactlyElementsOf(expected);
        assertThat(ProcessHandle.of(bridge)).as("the bridge lives").hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
        bothStillServe();
    }

    // --- resources -----------------------------------------------------------------------------------------------------------------

    @Test
    void aForkBombIsHeldByThePidLimitAndTheContainerKeepsServing() throws Exception {
        Path pidsCgroup = cgroup(first.hostPid(), "pids");
        assertThat(Files.readString(pidsCgroup.resolve("pids.max")).strip()).isEqualTo(Integer.toString(PIDS));
        long started = System.nanoTime();
        List<String> lines = first.attempt("fork-bomb", Map.of("seconds", 3));
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("fork refused 11");
        assertThat(Integer.parseInt(lines.get(1).substring("most processes ".length()))).isBetween(PIDS / 2, PIDS);
        assertThat(lines.get(2)).isEqualTo("processes after 1");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        // Only the server's threads are left.
        assertThat(Long.parseLong(Files.readString(pidsCgroup.resolve("pids.current")).strip())).isLessThan(PIDS / 2);
        bothStillServe();
    }

    /** The directory of a controller's cgroup of a host process (this host mounts cgroup v1 hierarchies under /sys/fs/cgroup). */
    static Path cgroup(long pid, String controller) throws IOException {
        String path = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.matches("\\d+:[^:]*\\b" + controller
                + "\\b[^:]*:.*")).findFirst().orElseThrow().replaceFirst("^\\d+:[^:]*:", "");
        return Path.of("/sys/fs/cgroup", controller).resolve(path.substring(1));
    }

    @Test
    void fillingTheVolumeAndTmpFailsWithEnospcAndTheHostIsUnaffected() throws Exception {
        List<String> lines = first.attempt("fill", Map.of("paths", List.of("/opt/ml/fill", "/tmp/fill")));
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo("fill /opt/ml/fill refused 28");
        assertThat(Long.parseLong(lines.get(1).replaceAll("\\D", ""))).isBetween((VOLUME >> 20) / 2, VOLUME >> 20);
        assertThat(lines.get(2)).isEqualTo("fill /tmp/fill refused 28");
        assertThat(Long.parseLong(lines.get(3).replaceAll("\\D", ""))).isBetween(200L, 256L);
        // The host gives the volume its size and no more: the file holding it, and the blocks the host allocated to it
        // (which may count a block or two of the host file system's own extent tree).
        Path image = runDirectory(first.id()).resolve("volume.img");
        assertThat(Files.size(image)).isEqualTo(VOLUME);
        assertThat(allocatedBytes(image)).isLessThanOrEqualTo(VOLUME + (1L << 20));
        bothStillServe();
    }

    private static long allocatedBytes(Path file) throws Exception {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
        String[] out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split(" ");
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    @Test
    void aChildExceedingTheMemoryLimitIsKilledAndTheContainerKeepsServing() throws Exception {
        Path memoryCgroup = cgroup(first.hostPid(), "memory");
        assertThat(Long.parseLong(Files.readString(memoryCgroup.resolve("memory.limit_in_bytes")).strip())).isEqualTo(INSTANCE.memoryBytes());
        List<String> lines = first.attempt("memory-child", Map.of());
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("child killed by signal 9");
        assertThat(Long.parseLong(lines.get(1).replaceAll("\\D", ""))).isLessThanOrEqualTo(INSTANCE.memoryBytes() >> 20);
        bothStillServe();
    }

    @Test
    void aServerExceedingTheMemoryLimitIsKilledAndAContainerInItsPlaceServes() throws Exception {
        Serving doomed = serve("doomed");
        String socket = doomed.socket().toString();
        try {
            awaitPing(doomed);
            assertThatThrownBy(() -> doomed.attempt("memory", Map.of())).isInstanceOf(IOException.class);
            Execution.Exit exit = doomed.execution().exit().get(60, TimeUnit.SECONDS);
            // The kernel killed the server, the container's pid 1, and with it the container.
            assertThat(exit.reason()).isEqualTo(Execution.Reason.EXITED);
            assertThat(exit.code()).isEqualTo(137);
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains(socket)).toList())
                    .as("the bridge ended with the container").isEmpty();
            bothStillServe();
        } finally {
            doomed.http().close();
            sandbox.remove(doomed.id());
        }
        assertGone(doomed.id());
        // What EndpointManager does with an ended container: removes it (above) and starts another from the same spec.
        Serving replacement = serve("replacement");
        try {
            awaitPing(replacement);
            assertThat(replacement.ping()).isEqualTo("replacement");
        } finally {
            replacement.http().close();
            sandbox.remove(replacement.id());
        }
        assertGone(replacement.id());
        bothStillServe();
    }

    /** No run directory, mount or loop device of the run is left. */
    private static void assertGone(String id) throws Exception {
        Path run = runDirectory(id);
        assertThat(run).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(run.toString());
        Process p = new ProcessBuilder("losetup", "-a").redirectErrorStream(true).start();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).doesNotContain(run.toString());
        p.waitFor(30, TimeUnit.SECONDS);
    }
}
