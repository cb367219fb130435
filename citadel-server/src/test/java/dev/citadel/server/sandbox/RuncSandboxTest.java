package dev.citadel.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.server.images.TestImages;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.RuncSandbox;
import dev.citadel.services.sandbox.Sandbox;
import dev.citadel.services.sandbox.SandboxException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The runc sandbox against the test images (docs/TEST-IMAGES.md): busybox for nearly everything,
 * Python from the sklearn image where a technique needs it. One hostile technique per test, each
 * with its positive control where "it failed" could also mean "it never ran": the network (host
 * listeners on loopback and the other addresses hear nothing, over TCP and UDP; no DNS; no raw or
 * packet sockets), host files, the read-only root, privilege (capabilities, user namespaces,
 * mounts, setuid), a fork bomb, a full volume, memory, the time limit and stop, a crashed
 * instance's leftovers. All runs share one sandbox and so one cached root per image.
 */
@Tag("runs-once")
class RuncSandboxTest {
    private static final long VOLUME = 16L << 20;
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static Path base;
    private static Path sandboxRoot;
    private static RuncSandbox sandbox;
    private static ContainerSpec.Image tiny;

    @BeforeAll
    static void setUp() throws Exception {
        base = Files.createTempDirectory("citadel-sandbox-");
        // The container's mapped root must reach its root file system: every directory above it is traversable (not listable).
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        sandboxRoot = base.resolve("sandbox");
        sandbox = new RuncSandbox(sandboxRoot, 4L << 30);
        tiny = image(TestImages.tiny());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (sandbox != null) {
            for (String id : sandbox.present()) {
                sandbox.remove(id);
            }
            sandbox.close();
        }
        Process p = new ProcessBuilder("rm", "-rf", base.toString()).inheritIO().start();
        p.waitFor(60, TimeUnit.SECONDS);
    }

    /** A test image as a sandbox sees one: its layout written by hard links to the cached blobs. */
    static ContainerSpec.Image image(TestImages.Image image) {
        return new ContainerSpec.Image(image.manifestDigest(), "localhost/test/" + image.name() + "@" + image.manifestDigest(), (dir, tag) -> {
            Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
            Files.copy(image.layout().resolve("oci-layout"), dir.resolve("oci-layout"));
            try (DirectoryStream<Path> all = Files.newDirectoryStream(image.layout().resolve("blobs/sha256"))) {
                for (Path blob : all) {
                    Files.createLink(blobs.resolve(blob.getFileName()), blob);
                }
            }
            Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + image.manifest().mediaType()
                    + "\",\"digest\":\"" + image.manifestDigest() + "\",\"size\":" + image.manifest().size()
                    + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + tag + "\"}}]}");
        });
    }

    static ContainerSpec.Limits limits() {
        return new ContainerSpec.Limits(1.0, 64L << 20, 32, 1L << 20);
    }

    static ContainerSpec shell(String script, Duration timeLimit) {
        return new ContainerSpec(tiny, Optional.of(List.of("/bin/sh", "-c", script)), List.of(), Map.of(), "/opt/ml", List.of(), limits(),
                timeLimit, Duration.ofSeconds(2));
    }

    /** What a finished run left: how it ended, its output lines, whether the output was cut. */
    record Run(String id, Execution.Exit exit, List<String> lines, boolean truncated) {
        String output() {
            return String.join("\n", lines);
        }
    }

    static String newId() {
        return "t" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
    }

    /** A started run whose output is collected. */
    record Started(String id, Execution execution, List<String> lines, boolean[] truncated) {
        Run await(Duration limit) throws Exception {
            Execution.Exit exit = execution.exit().get(limit.toMillis(), TimeUnit.MILLISECONDS);
            synchronized (lines) {
                System.out.println("run " + id + " ended " + exit + ":\n  " + String.join("\n  ", lines));
                return new Run(id, exit, List.copyOf(lines), truncated[0]);
            }
        }
    }

    static Started start(RuncSandbox on, String id, ContainerSpec spec) throws IOException {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        boolean[] truncated = {false};
        Execution e = on.start(id, spec, new Sandbox.OutputSink() {
            @Override
            public void line(Instant at, String line) {
                lines.add(line);
            }

            @Override
            public void truncated() {
                truncated[0] = true;
            }
        });
        return new Started(id, e, lines, truncated);
    }

    /** Creates a volume, runs the spec to its end and removes everything. */
    static Run run(ContainerSpec spec) throws Exception {
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        try {
            return start(sandbox, id, spec).await(spec.timeLimit().plus(spec.grace()).plusSeconds(60));
        } finally {
            sandbox.remove(id);
        }
    }

    static Run sh(String script) throws Exception {
        return run(shell(script, Duration.ofSeconds(30)));
    }

    static List<InetAddress> otherHostAddresses() throws IOException {
        List<InetAddress> addresses = new ArrayList<>();
        for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
            if (!nif.isLoopback() && nif.isUp()) {
                nif.inetAddresses().filter(a -> a instanceof Inet4Address).forEach(addresses::add);
            }
        }
        assertThat(addresses).as("this host needs a non-loopback IPv4 address for the test to mean anything").isNotEmpty();
        return addresses;
    }

    // --- the process: image configuration, output, volume -------------------------------------------------------------------------

    @Test
    void aRunSeesOnlyLoopbackAndItsProcessFollowsTheImageAndTheSpec() throws Exception {
        Run ok = run(new ContainerSpec(tiny, Optional.of(List.of("/bin/sh")), List.of("-c", "ls /sys/class/net; pwd; echo \"$PATH $GREETING\"; exit 3"),
                Map.of("GREETING", "hello"), "/opt/ml", List.of(), limits(), Duration.ofSeconds(30), Duration.ofSeconds(2)));
        assertThat(ok.exit().code()).isEqualTo(3);
        assertThat(ok.exit().reason()).isEqualTo(Execution.Reason.EXITED);
        assertThat(ok.lines()).containsExactly("lo", "/", "/bin hello");
    }

    @Test
    void outputBeyondTheLimitIsCutOnceAndTheRunStillEnds() throws Exception {
        ContainerSpec spec = new ContainerSpec(tiny, Optional.of(List.of("/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done; echo done")),
                List.of(), Map.of(), "/opt/ml", List.of(), new ContainerSpec.Limits(1.0, 64L << 20, 32, 1000), Duration.ofSeconds(30),
                Duration.ofSeconds(2));
        Run r = run(spec);
        assertThat(r.exit().code()).isZero();
        assertThat(r.truncated()).isTrue();
        assertThat(r.lines()).startsWith("line-0", "line-1").doesNotContain("done");
        assertThat(r.lines().stream().mapToInt(l -> l.length() + 1).sum()).isLessThanOrEqualTo(1000);
    }

    @Test
    void theCallersInputsAreReadableAndAReadOnlyMountStaysReadOnly() throws Exception {
        String id = newId();
        Path volume = sandbox.createVolume(id, VOLUME);
        try {
            Path data = Files.createDirectories(volume.resolve("input/data/train"));
            Files.writeString(data.resolve("rows.csv"), "1,2,3\n");
            Files.setPosixFilePermissions(data.resolve("rows.csv"), PosixFilePermissions.fromString("rw-------"));
            ContainerSpec spec = new ContainerSpec(tiny, Optional.of(List.of("/bin/sh", "-c",
                    "cat /opt/ml/input/data/train/rows.csv; { echo x > /opt/ml/input/data/train/planted; } 2>/dev/null || echo input-read-only;"
                            + " mkdir -p /opt/ml/model && echo weights > /opt/ml/model/model.bin && echo model-written")),
                    List.of(), Map.of(), "/opt/ml", List.of(new ContainerSpec.Mount(volume.resolve("input/data"), "/opt/ml/input/data", true)),
                    limits(), Duration.ofSeconds(30), Duration.ofSeconds(2));
            Run r = start(sandbox, id, spec).await(Duration.ofSeconds(60));
            assertThat(r.lines()).contains("1,2,3", "input-read-only", "model-written");
            assertThat(Files.readString(volume.resolve("model/model.bin"))).isEqualTo("weights\n");
            assertThat(volume.resolve("input/data/train/planted")).doesNotExist();
        } finally {
            sandbox.remove(id);
        }
    }

    /**
     * The volume reaches the disk encrypted: what the caller and the container wrote, names and
     * contents, is in the run's volume file only as ciphertext, and the volume cannot be read
     * without its key (mounted again, its names are scrambled and its files refuse to open).
     */
    @Test
    void theVolumeIsCiphertextOnTheDiskAndUnreadableWithoutItsKey() throws Exception {
        String id = newId();
        byte[] key = new byte[Sandbox.VOLUME_KEY_BYTES];
        new java.security.SecureRandom().nextBytes(key);
        String callers = "callers-secret-" + id;
        String containers = "containers-secret-" + id;
        Path volume = sandbox.createVolume(id, VOLUME, key);
        Path copy = base.resolve(id + ".img");
        Path mnt = Files.createDirectory(base.resolve(id + "-mnt"));
        try {
            Files.writeString(Files.createDirectories(volume.resolve("input/data/train")).resolve(callers + ".csv"), (callers + "\n").repeat(100));
            ContainerSpec spec = new ContainerSpec(tiny, Optional.of(List.of("/bin/sh", "-c", "mkdir -p /opt/ml/model && i=0; while [ $i -lt 100 ];"
                    + " do echo " + containers + "; i=$((i+1)); done > /opt/ml/model/" + containers + ".bin && sync && cat /opt/ml/input/data/train/"
                    + callers + ".csv | head -1")), List.of(), Map.of(), "/opt/ml", List.of(), limits(), Duration.ofSeconds(30), Duration.ofSeconds(2));
            Run r = start(sandbox, id, spec).await(Duration.ofSeconds(60));
            assertThat(r.lines()).containsExactly(callers);
            assertThat(Files.readString(volume.resolve("model/" + containers + ".bin"))).startsWith(containers + "\n");
            assertThat(new ProcessBuilder("sync").start().waitFor()).isZero();
            // A copy of the volume file as it is on the disk (the copy stays consistent: nothing writes to it any more).
            Files.copy(sandboxRoot.resolve("runs").resolve(id).resolve("volume.img"), copy);
            byte[] disk = Files.readAllBytes(copy);
            String latin = new String(disk, StandardCharsets.ISO_8859_1);
            assertThat(latin).as("the caller's data on the disk").doesNotContain(callers);
            assertThat(latin).as("the container's data on the disk").doesNotContain(containers);
            // Mounted without the key: the directory tree is there, but names are scrambled and contents cannot be read.
            assertThat(new ProcessBuilder("mount", "-o", "loop,ro,nosuid,nodev,noexec", copy.toString(), mnt.toString()).inheritIO().start()
                    .waitFor()).isZero();
            try (var names = Files.walk(mnt.resolve("volume"))) {
                List<Path> all = names.toList();
                assertThat(all).hasSizeGreaterThan(3);
                assertThat(all).noneMatch(p -> p.getFileName().toString().contains("secret") || p.getFileName().toString().equals("model"));
                Path file = all.stream().filter(Files::isRegularFile).findFirst().orElseThrow();
                assertThatThrownBy(() -> Files.readAllBytes(file)).isInstanceOf(IOException.class);
            }
        } finally {
            new ProcessBuilder("umount", mnt.toString()).start().waitFor();
            Files.deleteIfExists(mnt);
            Files.deleteIfExists(copy);
            sandbox.remove(id);
        }
    }

    @Test
    void aVolumeKeyMustBeSixtyFourBytes() throws Exception {
        String id = newId();
        assertThatThrownBy(() -> sandbox.createVolume(id, VOLUME, new byte[32]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(sandbox.present()).doesNotContain(id);
    }

    @Test
    void theCpuLimitIsACfsQuota() throws Exception {
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        try {
            ContainerSpec spec = new ContainerSpec(tiny, Optional.of(List.of("/bin/sh", "-c", "sleep 30")), List.of(), Map.of(), "/opt/ml",
                    List.of(), new ContainerSpec.Limits(0.5, 64L << 20, 32, 1L << 20), Duration.ofSeconds(30), Duration.ofSeconds(1));
            Started s = start(sandbox, id, spec);
            long pid = Long.parseLong(Files.readString(sandboxRoot.resolve("runs").resolve(id).resolve("pid")).strip());
            String cpuCgroup = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.matches("\\d+:[^:]*\\bcpu\\b[^:]*:.*"))
                    .findFirst().orElseThrow().replaceFirst("^\\d+:[^:]*:", "");
            Path quota = Path.of("/sys/fs/cgroup/cpu").resolve(cpuCgroup.substring(1)).resolve("cpu.cfs_quota_us");
            assertThat(Files.readString(quota).strip()).isEqualTo("50000");
            s.execution().stop(Duration.ZERO);
            assertThat(s.await(Duration.ofSeconds(60)).exit().reason()).isEqualTo(Execution.Reason.STOPPED);
        } finally {
            sandbox.remove(id);
        }
    }

    // --- the network ---------------------------------------------------------------------------------------------------------------

    @Test
    void tcpToAListenerOnTheHostsLoopbackReachesNothing() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            // The positive control: nc works inside, over the container's own loopback.
            // (the client retries until the listener is up: a loaded machine may start it late)
            Run r = sh("(busybox nc -l -p 9000 > /tmp/got &); for i in 1 2 3 4 5 6 7 8 9 10; do echo inside | busybox nc -w 2 127.0.0.1 9000"
                    + " 2>/dev/null && break; sleep 0.5; done; sleep 1;"
                    + " echo \"control: $(cat /tmp/got)\"; echo hello | busybox nc -w 2 127.0.0.1 " + listener.getLocalPort() + " && echo reached");
            assertThat(r.output()).contains("control: inside").doesNotContain("reached");
            assertNothingAccepted(listener);
        }
    }

    @Test
    void tcpToAListenerOnTheHostsOtherAddressesReachesNothing() throws Exception {
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            StringBuilder script = new StringBuilder();
            for (InetAddress a : otherHostAddresses()) {
                ServerSocket s = new ServerSocket(0, 50, a);
                listeners.add(s);
                script.append("echo hello | busybox nc -w 2 ").append(a.getHostAddress()).append(' ').append(s.getLocalPort())
                        .append(" 2>&1 && echo reached; ");
            }
            Run r = sh(script.toString());
            assertThat(r.output()).contains("Network is unreachable").doesNotContain("reached");
            for (ServerSocket s : listeners) {
                assertNothingAccepted(s);
            }
        } finally {
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
    }

    /**
     * busybox's nc has no UDP mode; its nslookup (a DNS query to {@code server:port}) and tftp send
     * datagrams to any port. Sent to the container's own loopback, nothing listens there, and the
     * ICMP port unreachable that comes back ("Connection refused") shows the datagrams were sent.
     */
    private static String udpTo(String host, int port) {
        // In the background: they wait for answers that never come, and end with the container.
        return "(busybox nslookup example.com " + host + ":" + port + " 2>&1 &); (busybox tftp -g -r x -l /tmp/x " + host + " " + port
                + " 2>&1 &); sleep 1; ";
    }

    @Test
    void udpToTheHostsLoopbackReachesNothing() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Run r = sh(udpTo("127.0.0.1", listener.getLocalPort()));
            assertThat(r.output()).contains("Connection refused");
            assertNothingReceived(listener);
        }
    }

    @Test
    void udpToTheHostsOtherAddressesReachesNothing() throws Exception {
        List<DatagramSocket> listeners = new ArrayList<>();
        try {
            StringBuilder script = new StringBuilder();
            for (InetAddress a : otherHostAddresses()) {
                DatagramSocket s = new DatagramSocket(0, a);
                listeners.add(s);
                script.append(udpTo(a.getHostAddress(), s.getLocalPort()));
            }
            Run r = sh(script.toString());
            assertThat(r.output()).contains("Network is unreachable");
            for (DatagramSocket s : listeners) {
                assertNothingReceived(s);
            }
        } finally {
            for (DatagramSocket s : listeners) {
                s.close();
            }
        }
    }

    @Test
    void namesDoNotResolve() throws Exception {
        String server = otherHostAddresses().getFirst().getHostAddress();
        Run r = sh("busybox nslookup example.com 2>&1; echo \"exit $?\"; busybox nslookup example.com " + server + " 2>&1; echo \"exit $?\"");
        assertThat(r.lines()).doesNotContain("exit 0").contains("exit 1");
        assertThat(r.output()).doesNotContainPattern("Address( \\d+)?: *\\d+\\.\\d+\\.\\d+\\.\\d+\\s*$");
    }

    @Test
    void rawSocketsAreRefused() throws Exception {
        // busybox ping needs a raw ICMP socket; the control: the same ping of its own loopback would work with one.
        Run r = sh("busybox ping -c 1 -W 1 127.0.0.1 2>&1; echo \"exit $?\"");
        assertThat(r.output()).contains("permission denied").contains("exit 1");
    }

    /** Runs Python code in the sklearn image (Entrypoint python3) with {@code attempt(name, f)}: prints "name allowed" or "name refused errno". */
    static Run python(String... code) throws Exception {
        String script = String.join("\n", "import os, socket, threading, subprocess",
                "def attempt(name, f):",
                "    try:",
                "        f()",
                "        print(name, 'allowed')",
                "    except OSError as e:",
                "        print(name, 'refused', e.errno)",
                String.join("\n", code));
        Run r = run(new ContainerSpec(image(TestImages.sklearn()), Optional.empty(), List.of("-c", script), Map.of(), "/opt/ml", List.of(),
                new ContainerSpec.Limits(1.0, 512L << 20, 64, 1L << 20), Duration.ofSeconds(60), Duration.ofSeconds(2)));
        assertThat(r.exit().code()).as(r.output()).isZero();
        return r;
    }

    @Test
    void pythonCannotOpenRawOrPacketSockets() throws Exception {
        Run r = python("attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))",
                "attempt('packet', lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)))",
                "attempt('udp-socket', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())");
        assertThat(r.lines()).containsExactly("raw refused 1", "packet refused 1", "udp-socket allowed");
    }

    @Test
    void pythonUdpToTheHostReachesNothing() throws Exception {
        try (DatagramSocket loopback = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                DatagramSocket other = new DatagramSocket(0, otherHostAddresses().getFirst())) {
            Run r = python("s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                    "attempt('loopback', lambda: s.sendto(b'x', ('127.0.0.1', " + loopback.getLocalPort() + ")))",
                    "attempt('other', lambda: s.sendto(b'x', ('" + other.getLocalAddress().getHostAddress() + "', " + other.getLocalPort() + ")))");
            // The loopback datagram goes to the container's own loopback, where nothing listens.
            assertThat(r.lines()).containsExactly("loopback allowed", "other refused 101");
            assertNothingReceived(loopback);
            assertNothingReceived(other);
        }
    }

    @Test
    void pythonCannotResolveNames() throws Exception {
        Run r = python("try:", "    print(socket.getaddrinfo('example.com', 80))", "except socket.gaierror as e:", "    print('gaierror')");
        assertThat(r.lines()).containsExactly("gaierror");
    }

    @Test
    void pythonCannotChangeItsIds() throws Exception {
        Run r = python("attempt('setuid', lambda: os.setuid(1000))", "attempt('setgid', lambda: os.setgid(1000))",
                "attempt('setgroups', lambda: os.setgroups([1000]))", "attempt('chroot', lambda: os.chroot('/tmp'))",
                "print(os.getuid(), os.geteuid())");
        assertThat(r.lines()).containsExactly("setuid refused 1", "setgid refused 1", "setgroups refused 1", "chroot refused 1",
                "0 0");
    }

    @Test
    void ordinaryPythonWorksUnderTheSeccompProfile() throws Exception {
        // Threads, a child process, memory maps, NumPy and scikit-learn: what a training script does.
        Run r = python("t = threading.Thread(target=lambda: None); t.start(); t.join()",
                "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())",
                "import numpy, sklearn.linear_model",
                "m = sklearn.linear_model.LinearRegression().fit(numpy.array([[0.0], [1.0], [2.0]]), numpy.array([1.0, 3.0, 5.0]))",
                "print('slope', round(float(m.coef_[0]), 3))");
        assertThat(r.lines()).containsExactly("child", "slope 2.0");
    }

    @Test
    void theSklearnImageRunsItsOwnEntrypointAndCmd() throws Exception {
        ContainerSpec.Image sklearn = image(TestImages.sklearn());
        Run r = run(new ContainerSpec(sklearn, Optional.empty(), List.of(), Map.of(), "/opt/ml", List.of(),
                new ContainerSpec.Limits(1.0, 512L << 20, 64, 1L << 20), Duration.ofSeconds(60), Duration.ofSeconds(2)));
        assertThat(r.exit().code()).as(r.output()).isZero();
        assertThat(r.lines()).containsExactly("scikit-learn 1.2.1");
        assertThat(sandbox.cachedImages()).contains(sklearn.digest(), tiny.digest());
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

    // --- files ---------------------------------------------------------------------------------------------------------------------

    @Test
    void hostFilesAreNotVisible() throws Exception {
        Path secret = Files.createTempFile(base, "secret-", ".txt");
        Files.writeString(secret, "host-secret-7f3a");
        Path tmpSecret = Files.createTempFile("citadel-secret-", ".txt");
        Files.writeString(tmpSecret, "host-secret-7f3a");
        try {
            Run r = sh("cat " + secret + " " + tmpSecret + " /etc/shadow /etc/passwd 2>&1; ls / 2>&1; ls /proc/1/root/ 2>&1;"
                    + " busybox find / -xdev -name 'citadel-secret-*' 2>&1; echo done");
            assertThat(r.output()).doesNotContain("host-secret-7f3a", "root:").contains("done")
                    .contains("can't open '/etc/shadow': No such file or directory");
        } finally {
            Files.delete(tmpSecret);
        }
    }

    @Test
    void onlyTheVolumeAndTmpAreWritable() throws Exception {
        Run r = sh("for d in / /bin /usr /etc /sys /proc/sys; do touch $d/planted 2>>/tmp/errors || echo \"refused $d\"; done; cat /tmp/errors;"
                + " echo v > /opt/ml/file && echo volume-writable; echo t > /tmp/file && echo tmp-writable");
        assertThat(r.output()).contains("Read-only file system", "refused /", "refused /bin", "refused /usr", "refused /etc", "refused /sys",
                "refused /proc/sys", "volume-writable", "tmp-writable");
    }

    @Test
    void theCachedRootIsUnchangedByARun() throws Exception {
        sh("rm -rf /bin/sleep 2>&1; echo x > /bin/new 2>&1; true");
        Run r = sh("ls /bin");
        assertThat(r.lines()).contains("sleep").doesNotContain("new");
    }

    // --- privilege -----------------------------------------------------------------------------------------------------------------

    @Test
    void theProcessHasNoCapabilitiesNoNewPrivilegesASeccompFilterAndMaskedProc() throws Exception {
        Run r = sh("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; busybox stat -c %F /proc/keys;"
                + " cat /proc/self/uid_map; id -u");
        assertThat(r.lines()).contains("CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
                "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2", "character special file", "0");
        assertThat(r.output()).containsPattern("\\s+0\\s+200000\\s+65536");
    }

    @Test
    void aNewUserNamespaceIsRefused() throws Exception {
        Run r = sh("busybox unshare -r -U id -u 2>&1; echo \"exit $?\"; busybox unshare -n true 2>&1; echo \"exit $?\"");
        assertThat(r.output()).contains("Operation not permitted").doesNotContain("exit 0");
    }

    @Test
    void mountingIsRefused() throws Exception {
        Run r = sh("busybox mount -t tmpfs none /mnt 2>&1; echo \"exit $?\"; busybox mount -o remount,rw / 2>&1; echo \"exit $?\";"
                + " busybox umount /proc/keys 2>&1; echo \"exit $?\"; busybox stat -c %F /proc/keys");
        assertThat(r.output()).doesNotContain("exit 0").contains("character special file");
    }

    @Test
    void aSetuidCopyGainsNothing() throws Exception {
        // The volume is nosuid and the process has noNewPrivileges: a setuid file runs with the caller's (empty) privileges.
        Run r = sh("mkdir /opt/ml/bin && cp /bin/busybox /opt/ml/bin/busybox && chmod 4755 /opt/ml/bin/busybox; busybox stat -c %A /opt/ml/bin/busybox;"
                + " /opt/ml/bin/busybox grep -E '^(CapEff|NoNewPrivs):' /proc/self/status; grep ' /opt/ml ' /proc/self/mounts");
        assertThat(r.lines()).contains("-rwsr-xr-x", "CapEff:\t0000000000000000", "NoNewPrivs:\t1");
        assertThat(r.output()).containsPattern(" /opt/ml ext4 [^ ]*nosuid");
    }

    // --- resources -----------------------------------------------------------------------------------------------------------------

    @Test
    void aForkBombIsContainedByThePidLimitAndTheHostStaysResponsive() throws Exception {
        long start = System.nanoTime();
        Run r = run(shell("bomb() { bomb | bomb & }; bomb; sleep 3; echo survived", Duration.ofSeconds(6)));
        assertThat(r.output()).contains("can't fork");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(40));
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("bomb")).count()).isZero();
        assertThat(sh("echo next").lines()).containsExactly("next");
    }

    @Test
    void writingPastTheVolumesSizeFailsWithEnospcAndTheHostIsUnaffected() throws Exception {
        String id = newId();
        Path volume = sandbox.createVolume(id, VOLUME);
        try {
            long hostFree = Files.getFileStore(base).getUsableSpace();
            Run r = start(sandbox, id, shell("busybox dd if=/dev/zero of=/opt/ml/fill bs=1M count=64 2>&1; echo \"exit $?\"", Duration.ofSeconds(30)))
                    .await(Duration.ofSeconds(60));
            assertThat(r.output()).contains("No space left on device").contains("exit 1");
            assertThat(Files.size(volume.resolve("fill"))).isLessThanOrEqualTo(VOLUME);
            // The caller meets the same wall.
            assertThatThrownBy(() -> Files.write(volume.resolve("more"), new byte[1 << 20])).isInstanceOf(IOException.class)
                    .hasMessageContaining("No space left on device");
            Path image = sandboxRoot.resolve("runs").resolve(id).resolve("volume.img");
            assertThat((Long) Files.getAttribute(image, "unix:size")).isEqualTo(VOLUME);
            assertThat(hostFree - Files.getFileStore(base).getUsableSpace()).isLessThan(VOLUME + (8L << 20));
        } finally {
            sandbox.remove(id);
        }
    }

    @Test
    void exceedingTheMemoryLimitKillsTheProcess() throws Exception {
        Run r = sh("busybox dd if=/dev/zero of=/dev/null bs=200M count=1 2>&1; echo \"dd exit $?\"");
        // The shell (pid 1) stays; the allocating child is killed by the kernel (SIGKILL: 128 + 9).
        assertThat(r.output()).contains("dd exit 137");
        assertThat(r.exit().reason()).isEqualTo(Execution.Reason.EXITED);
        Run alone = run(new ContainerSpec(tiny, Optional.of(List.of("/bin/busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1")),
                List.of(), Map.of(), "/opt/ml", List.of(), limits(), Duration.ofSeconds(30), Duration.ofSeconds(2)));
        assertThat(alone.exit().code()).isEqualTo(137);
    }

    // --- time limit, stop, crash ---------------------------------------------------------------------------------------------------

    private static final String IGNORES_TERM = "trap 'echo got TERM' TERM; echo ready; while true; do sleep 1; done";

    @Test
    void theTimeLimitSendsTermThenKill() throws Exception {
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        try {
            long start = System.nanoTime();
            Run r = start(sandbox, id, shell(IGNORES_TERM, Duration.ofSeconds(2))).await(Duration.ofSeconds(60));
            assertThat(r.exit().reason()).isEqualTo(Execution.Reason.TIME_LIMIT);
            assertThat(r.exit().code()).isEqualTo(137);
            assertThat(r.lines()).contains("ready", "got TERM");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(30));
            assertGone(id, false);
        } finally {
            sandbox.remove(id);
        }
        assertGone(id, true);
    }

    @Test
    void stopSendsTermThenKill() throws Exception {
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        try {
            Started s = start(sandbox, id, shell(IGNORES_TERM, Duration.ofSeconds(60)));
            waitForLine(s, "ready");
            s.execution().stop(Duration.ofSeconds(1));
            Run r = s.await(Duration.ofSeconds(60));
            assertThat(r.exit().reason()).isEqualTo(Execution.Reason.STOPPED);
            assertThat(r.exit().code()).isEqualTo(137);
            assertThat(r.lines()).contains("got TERM");
            assertGone(id, false);
        } finally {
            sandbox.remove(id);
        }
        assertGone(id, true);
    }

    @Test
    void aRunThatEndsOnTermReportsItsOwnCode() throws Exception {
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        try {
            Started s = start(sandbox, id, shell("trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 1; done", Duration.ofSeconds(60)));
            waitForLine(s, "ready");
            s.execution().stop(Duration.ofSeconds(20));
            Run r = s.await(Duration.ofSeconds(15));
            assertThat(r.exit().reason()).isEqualTo(Execution.Reason.STOPPED);
            assertThat(r.exit().code()).isZero();
        } finally {
            sandbox.remove(id);
        }
    }

    @Test
    void presentShowsWhatAnotherInstanceLeftAndRemoveReapsIt() throws Exception {
        String id = newId();
        // Another instance on the same root stands for a Citadel process that crashed with a container running.
        RuncSandbox crashed = new RuncSandbox(sandboxRoot, 4L << 30);
        crashed.createVolume(id, VOLUME);
        Started s = start(crashed, id, shell("echo ready; sleep 300", Duration.ofSeconds(300)));
        waitForLine(s, "ready");
        assertThat(sandbox.present()).contains(id);
        assertThat(runcList()).contains(id);

        sandbox.remove(id);
        assertGone(id, true);
        assertThat(sandbox.present()).doesNotContain(id);
        assertThat(s.execution().exit().get(30, TimeUnit.SECONDS).code()).isEqualTo(137);
        sandbox.remove(id); // idempotent
    }

    @Test
    void aStartWithoutAVolumeOrWithABadCommandFailsAndLeavesNothingRunning() throws Exception {
        String id = newId();
        assertThatThrownBy(() -> sandbox.start(id, shell("true", Duration.ofSeconds(5)), Sandbox.OutputSink.DISCARD))
                .hasMessageContaining("no volume");
        sandbox.createVolume(id, VOLUME);
        try {
            ContainerSpec missing = new ContainerSpec(tiny, Optional.of(List.of("/bin/no-such-program")), List.of(), Map.of(), "/opt/ml",
                    List.of(), limits(), Duration.ofSeconds(5), Duration.ofSeconds(1));
            // runc finds no such program before the container's process runs: start fails, saying why and nothing of the host's paths.
            assertThatThrownBy(() -> start(sandbox, id, missing)).isInstanceOf(SandboxException.class)
                    .hasMessageContaining("no-such-program").message().doesNotContain(sandboxRoot.toString());
            assertThat(runcList()).doesNotContain(id);
        } finally {
            sandbox.remove(id);
        }
        assertGone(id, true);
    }

    @Test
    void concurrentRunsOfANewImageUnpackItOnceAndUnusedRootsAreEvictedPastTheBudget() throws Exception {
        Path other = base.resolve("no-cache");
        RuncSandbox small = new RuncSandbox(other, 0);
        List<String> ids = List.of(newId(), newId(), newId());
        List<Started> started = new ArrayList<>();
        try {
            List<CompletableFuture<Started>> starts = new ArrayList<>();
            for (String id : ids) {
                small.createVolume(id, VOLUME);
                starts.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return start(small, id, shell("echo ran; sleep 1", Duration.ofSeconds(30)));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
            }
            for (CompletableFuture<Started> f : starts) {
                started.add(f.get(120, TimeUnit.SECONDS));
            }
            // While runs hold the root it stays, over budget or not.
            assertThat(small.cachedImages()).containsExactly(tiny.digest());
            try (var entries = Files.list(other.resolve("images"))) {
                assertThat(entries.map(p -> p.getFileName().toString()).toList()).containsExactly(tiny.digest().substring(7));
            }
            for (Started s : started) {
                assertThat(s.await(Duration.ofSeconds(60)).lines()).containsExactly("ran");
            }
            // A run's directory pins its root (a crashed Citadel's container may still use it) until the run is removed.
            assertThat(small.cachedImages()).containsExactly(tiny.digest());
            for (String id : ids) {
                small.remove(id);
            }
            assertThat(small.cachedImages()).isEmpty();
            assertThat(small.imageCacheBytes()).isZero();
        } finally {
            for (String id : ids) {
                small.remove(id);
            }
            small.close();
        }
    }

    private static void waitForLine(Started s, String line) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!s.lines().contains(line)) {
            assertThat(System.nanoTime()).as("waiting for '" + line + "'").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static List<String> runcList() throws Exception {
        Process p = new ProcessBuilder("runc", "--root", sandboxRoot.resolve("state").toString(), "list", "-q").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out.lines().toList();
    }

    /** No container under the id; with {@code removed}, no run directory and no loop device either. */
    private static void assertGone(String id, boolean removed) throws Exception {
        assertThat(runcList()).doesNotContain(id);
        if (removed) {
            Path run = sandboxRoot.resolve("runs").resolve(id);
            assertThat(run).doesNotExist();
            Process p = new ProcessBuilder("losetup", "-a").redirectErrorStream(true).start();
            assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).doesNotContain(run.toString());
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
