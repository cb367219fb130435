package dev.citadel.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.images.TestImages;
import dev.citadel.services.sandbox.RuncSandbox;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The runc sandbox against the tiny test image (busybox), one hostile technique per test: the
 * network (loopback only; a listener on the host's loopback and on its other addresses receives
 * nothing), the read-only root, capabilities and privilege, host files, the time limit, a fork bomb.
 */
@Tag("runs-once")
class RuncSandboxTest {
    private static Path root;
    private static RuncSandbox sandbox;
    private static int runs;

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("citadel-sandbox-");
        // The container's mapped root must be able to reach its bundle: every directory above it is traversable (not listable).
        Files.setPosixFilePermissions(root, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        sandbox = new RuncSandbox(root.resolve("bundles"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static RuncSandbox.Result run(String script, Duration limit) throws Exception {
        TestImages.Image tiny = TestImages.tiny();
        return sandbox.run("citadel-test-" + ProcessHandle.current().pid() + "-" + (++runs), new RuncSandbox.Spec(tiny.layout(), TestImages.TAG,
                List.of("/bin/sh", "-c", script), Map.of("PATH", "/bin"), "/", 64L << 20, 32, limit, Duration.ofSeconds(2), 64 * 1024));
    }

    @Test
    void theNetworkIsLoopbackOnlyAndNoHostListenerHearsAnything() throws Exception {
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            listeners.add(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
            for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
                if (!nif.isLoopback() && nif.isUp()) {
                    nif.inetAddresses().filter(a -> a instanceof java.net.Inet4Address).findFirst().ifPresent(a -> {
                        try {
                            listeners.add(new ServerSocket(0, 50, a));
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
            }
            // The positive control: nc works inside, over the container's own loopback.
            StringBuilder script = new StringBuilder("ls /sys/class/net; (busybox nc -l -p 9000 > /tmp/got &); sleep 1; "
                    + "echo inside | busybox nc -w 2 127.0.0.1 9000; sleep 1; echo \"control: $(cat /tmp/got)\"; ");
            for (ServerSocket s : listeners) {
                String host = s.getInetAddress().getHostAddress();
                script.append("echo hello | busybox nc -w 2 ").append(host).append(' ').append(s.getLocalPort())
                        .append(" && echo reached ").append(host).append("; ");
            }
            RuncSandbox.Result r = run(script.toString(), Duration.ofSeconds(30));
            assertThat(r.output().lines().findFirst()).hasValue("lo");
            assertThat(r.output()).contains("control: inside").doesNotContain("reached");
            for (ServerSocket s : listeners) {
                s.setSoTimeout(200);
                try {
                    s.accept().close();
                    throw new AssertionError("a connection reached " + s.getLocalSocketAddress());
                } catch (SocketTimeoutException expected) {
                    // nothing arrived
                }
            }
        } finally {
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
    }

    @Test
    void theRootIsReadOnlyAndNothingIsPrivileged() throws Exception {
        RuncSandbox.Result r = run("touch /bin/planted 2>&1; touch /tmp/scratch && echo tmp-writable; grep -E '^(CapEff|CapBnd|NoNewPrivs)' "
                + "/proc/self/status; cat /etc/shadow 2>&1; busybox stat -c %F /proc/timer_list; id -u", Duration.ofSeconds(30));
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("Read-only file system", "tmp-writable", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
                "NoNewPrivs:\t1", "can't open '/etc/shadow': No such file or directory", "character special file");
        assertThat(r.output().lines().toList()).contains("0"); // root inside, an unprivileged id outside; /proc/timer_list is masked (/dev/null)
    }

    @Test
    void theTimeLimitStopsAJobThatSleeps() throws Exception {
        long start = System.nanoTime();
        RuncSandbox.Result r = run("sleep 300", Duration.ofSeconds(2));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.exitCode()).isNotZero();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void aForkBombHitsThePidLimit() throws Exception {
        RuncSandbox.Result r = run("i=0; while [ $i -lt 100 ]; do sleep 20 & i=$((i+1)); done; echo tried", Duration.ofSeconds(5));
        assertThat(r.output()).contains("can't fork: Resource temporarily unavailable");
        // When the job's shell exits, its PID namespace goes with it: no sleeper outlives the run.
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").equals("sleep 20")).count()).isZero();
    }
}
