package dev.citadel.server.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.images.TrainerImage;
import dev.citadel.services.sandbox.ContainerHttp;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.RuncSandbox;
import dev.citadel.services.sandbox.Sandbox;
import dev.citadel.services.sandbox.SandboxException;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The serving bridge end to end: the trainer test image trains a model, then serves it
 * ({@code serve}, SageMaker's inference contract on port 8080) in a runc container with no network,
 * reached only through {@link Execution#connect} (nsenter + socat on a root-only Unix socket) by
 * {@link ContainerHttp}. Also what it costs: p50/p99 of sequential invocations over pooled and
 * fresh connections, printed for the benchmark record.
 */
@Tag("runs-once")
class ServingBridgeTest {
    private static final long VOLUME = 64L << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static Path base;
    private static Path sandboxRoot;
    private static RuncSandbox sandbox;
    private static ContainerSpec.Image trainer;
    private static byte[] model;
    private static String servingId;
    private static Execution serving;
    private static ContainerHttp http;

    @BeforeAll
    static void setUp() throws Exception {
        base = Files.createTempDirectory("citadel-serving-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        sandboxRoot = base.resolve("sandbox");
        sandbox = new RuncSandbox(sandboxRoot, 4L << 30);
        trainer = image(TrainerImage.build(base.resolve("trainer")), TrainerImage.TAG);
        model = trainModel();
        servingId = newId();
        serving = serve(servingId, Map.of());
        http = new ContainerHttp(serving, 8080, 8);
        awaitPing(http);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (http != null) {
            http.close();
        }
        if (sandbox != null) {
            for (String id : sandbox.present()) {
                sandbox.remove(id);
            }
            sandbox.close();
        }
        Process p = new ProcessBuilder("rm", "-rf", base.toString()).inheritIO().start();
        p.waitFor(60, TimeUnit.SECONDS);
    }

    /** The built layout as a sandbox sees an image: hard links to its blobs, the manifest its index tags {@code tag}. */
    static ContainerSpec.Image image(Path layout, String tag) throws IOException {
        JsonNode manifest = null;
        for (JsonNode m : JSON.readTree(layout.resolve("index.json").toFile()).path("manifests")) {
            if (tag.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                manifest = m;
            }
        }
        assertThat(manifest).as("the layout tags " + tag).isNotNull();
        JsonNode m = manifest;
        return new ContainerSpec.Image(m.path("digest").asText(), "localhost/test/trainer@" + m.path("digest").asText(), (dir, t) -> {
            Path blobs = Files.createDirectories(dir.resolve("blobs/sha256"));
            Files.copy(layout.resolve("oci-layout"), dir.resolve("oci-layout"));
            try (DirectoryStream<Path> all = Files.newDirectoryStream(layout.resolve("blobs/sha256"))) {
                for (Path blob : all) {
                    Files.createLink(blobs.resolve(blob.getFileName()), blob);
                }
            }
            Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" + m.path("mediaType").asText()
                    + "\",\"digest\":\"" + m.path("digest").asText() + "\",\"size\":" + m.path("size").asLong()
                    + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + t + "\"}}]}");
        });
    }

    static String newId() {
        return "s" + ProcessHandle.current().pid() + "-" + RUNS.incrementAndGet();
    }

    static ContainerSpec spec(List<String> arguments, Optional<List<String>> entrypoint, Map<String, String> env) {
        return new ContainerSpec(trainer, entrypoint, arguments, env, "/opt/ml", List.of(),
                new ContainerSpec.Limits(1.0, 1L << 30, 256, 1L << 20), Duration.ofMinutes(10), Duration.ofSeconds(2));
    }

    static Sandbox.OutputSink printing(String id) {
        return (Instant at, String line) -> System.out.println("[" + id + "] " + line);
    }

    /** Trains the image's logistic regression on a small CSV (label first) and returns model.pkl. */
    static byte[] trainModel() throws Exception {
        String id = newId();
        Path volume = sandbox.createVolume(id, VOLUME);
        try {
            Files.createDirectories(volume.resolve("input/config"));
            Files.writeString(volume.resolve("input/config/hyperparameters.json"), "{}");
            Files.createDirectories(volume.resolve("input/data/train"));
            StringBuilder csv = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                // label 1 when x1 + x2 > 10
                int x1 = i % 10;
                int x2 = (i * 7) % 13;
                csv.append(x1 + x2 > 10 ? 1 : 0).append(',').append(x1).append(',').append(x2).append('\n');
            }
            Files.writeString(volume.resolve("input/data/train/data.csv"), csv);
            Files.createDirectories(volume.resolve("model"));
            Files.createDirectories(volume.resolve("output/data"));
            Execution e = sandbox.start(id, spec(List.of("train"), Optional.empty(), Map.of()), printing(id));
            Execution.Exit exit = e.exit().get(5, TimeUnit.MINUTES);
            assertThat(exit.code()).as("train exits 0").isZero();
            Path pkl = volume.resolve("model/model.pkl");
            assertThat(Files.isRegularFile(pkl, LinkOption.NOFOLLOW_LINKS)).isTrue();
            return Files.readAllBytes(pkl);
        } finally {
            sandbox.remove(id);
        }
    }

    /** Starts {@code serve} with the trained model in {@code /opt/ml/model}. */
    static Execution serve(String id, Map<String, String> env) throws IOException {
        Path volume = sandbox.createVolume(id, VOLUME);
        Files.createDirectories(volume.resolve("model"));
        Files.write(volume.resolve("model/model.pkl"), model);
        return sandbox.start(id, spec(List.of("serve"), Optional.empty(), env), printing(id));
    }

    /** Waits until {@code GET /ping} answers 200 (python and scikit-learn take a few seconds to import). */
    static void awaitPing(ContainerHttp client) throws Exception {
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(120);
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try {
                ContainerHttp.Response r = client.exchange(get("/ping"), TIMEOUT, 1024);
                if (r.status() == 200) {
                    System.out.println("ping answered 200 after " + (System.nanoTime() - started) / 1_000_000 + " ms");
                    return;
                }
            } catch (SandboxException e) {
                throw e;
            } catch (IOException e) {
                last = e; // not listening yet: the bridge connects, finds nothing, closes
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the container never answered /ping", last);
    }

    static ContainerHttp.Request get(String path) {
        return new ContainerHttp.Request("GET", path, Map.of(), null);
    }

    static ContainerHttp.Request invocation(String contentType, String body) {
        return new ContainerHttp.Request("POST", "/invocations", Map.of("Content-Type", contentType, "Accept", contentType),
                body.getBytes(StandardCharsets.UTF_8));
    }

    static Path runDirectory(String id) {
        return sandboxRoot.resolve("runs").resolve(id);
    }

    static List<String> pgrep(String pattern) throws Exception {
        Process p = new ProcessBuilder("pgrep", "-f", pattern).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    // --- the contract through the bridge ------------------------------------------------------------------------------------------

    @Test
    void pingAndCsvAndJsonInvocationsAnswerThroughTheBridge() throws Exception {
        assertThat(http.exchange(get("/ping"), TIMEOUT, 1024).status()).isEqualTo(200);

        ContainerHttp.Response csv = http.exchange(invocation("text/csv", "9,9\n0,0\n8,7\n1,2\n"), TIMEOUT, 1 << 20);
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.headers()).containsEntry("content-type", "text/csv");
        assertThat(new String(csv.body(), StandardCharsets.UTF_8)).isEqualTo("1\n0\n1\n0\n");

        ContainerHttp.Response json = http.exchange(invocation("application/json", "{\"instances\": [[9, 9], [0, 1]]}"), TIMEOUT, 1 << 20);
        assertThat(json.status()).isEqualTo(200);
        assertThat(JSON.readTree(json.body()).path("predictions").toString()).isEqualTo("[1,0]");

        assertThat(http.exchange(invocation("application/x-recordio-protobuf", "x"), TIMEOUT, 1 << 20).status()).isEqualTo(415);
        assertThat(http.exchange(invocation("text/csv", "not,numbers\n"), TIMEOUT, 1 << 20).status()).isEqualTo(400);
    }

    @Test
    void thirtyTwoConcurrentExchangesSucceed() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                results.add(pool.submit(() -> {
                    ContainerHttp.Response r = http.exchange(invocation("text/csv", "9,9\n0,0\n"), TIMEOUT, 1 << 20);
                    return r.status() + " " + new String(r.body(), StandardCharsets.UTF_8);
                }));
            }
            for (Future<String> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo("200 1\n0\n");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theSocketIsRootsAloneAndItsDirectoryCannotBeListed() throws Exception {
        http.exchange(get("/ping"), TIMEOUT, 1024);
        Path socket = runDirectory(servingId).resolve("port-8080.sock");

        PosixFileAttributes s = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertThat(s.isOther()).as("a socket").isTrue();
        assertThat(s.owner().getName()).isEqualTo("root");
        assertThat(PosixFilePermissions.toString(s.permissions())).isEqualTo("rw-------");
        PosixFileAttributes d = Files.readAttributes(runDirectory(servingId), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertThat(d.owner().getName()).isEqualTo("root");
        assertThat(PosixFilePermissions.toString(d.permissions())).isEqualTo("rwx--x---");
        // One bridge for the port, in the host's mount namespace, whatever the number of connections.
        assertThat(pgrep("UNIX-LISTEN:" + socket)).isNotEmpty();
    }

    @Test
    void anotherContainerOfTheSameImageCannotReachTheFirstsPort() throws Exception {
        http.exchange(get("/ping"), TIMEOUT, 1024); // the first container listens, and its bridge runs
        String id = newId();
        sandbox.createVolume(id, VOLUME);
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        String script = String.join("\n",
                "import os, socket",
                "print('interfaces', sorted(os.listdir('/sys/class/net')))",
                "s = socket.socket()",
                "s.settimeout(5)",
                "try:",
                "    s.connect(('127.0.0.1', 8080))",
                "    print('connected')",
                "except OSError as e:",
                "    print('refused', type(e).__name__)",
                "print('sockets', os.path.exists('" + runDirectory(servingId) + "'))");
        try {
            Execution e = sandbox.start(id, spec(List.of("-c", script), Optional.of(List.of("python3")), Map.of()), (at, line) -> lines.add(line));
            assertThat(e.exit().get(2, TimeUnit.MINUTES).code()).isZero();
        } finally {
            sandbox.remove(id);
        }
        System.out.println("second container: " + lines);
        assertThat(lines).containsExactly("interfaces ['lo']", "refused ConnectionRefusedError", "sockets False");
        // The first still answers.
        assertThat(http.exchange(get("/ping"), TIMEOUT, 1024).status()).isEqualTo(200);
    }

    @Test
    void aSlowAnswerTimesOutAndStopAndRemoveEndTheBridge() throws Exception {
        String id = newId();
        Execution slow = serve(id, Map.of("CITADEL_TEST_SLEEP", "1"));
        try (ContainerHttp client = new ContainerHttp(slow, 8080, 2)) {
            awaitPing(client);
            long started = System.nanoTime();
            assertThatThrownBy(() -> client.exchange(invocation("text/csv", "1,2\n"), Duration.ofMillis(300), 1 << 20))
                    .isInstanceOf(HttpTimeoutException.class);
            assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(1000L);
            assertThat(client.exchange(invocation("text/csv", "1,2\n"), Duration.ofSeconds(5), 1 << 20).status()).isEqualTo(200);

            String socket = runDirectory(id).resolve("port-8080.sock").toString();
            assertThat(pgrep(socket)).as("the bridge runs").isNotEmpty();

            slow.stop(Duration.ofSeconds(2));
            Execution.Exit exit;
            try {
                exit = slow.exit().get(1, TimeUnit.MINUTES);
            } catch (java.util.concurrent.TimeoutException e) {
                diagnose();
                throw e;
            }
            assertThat(exit.reason()).isEqualTo(Execution.Reason.STOPPED);
            assertThat(exit.code()).as("serve exits 0 on SIGTERM").isZero();
            assertThatThrownBy(() -> slow.connect(8080)).isInstanceOf(SandboxException.class);
            assertThatThrownBy(() -> client.exchange(get("/ping"), TIMEOUT, 1024)).isInstanceOf(IOException.class);
            assertThat(pgrep(socket)).as("the bridge ended with the container").isEmpty();
        } finally {
            sandbox.remove(id);
        }
        // No bridge of this sandbox is left but the shared serving container's (other sandboxes on the machine may have theirs).
        assertThat(pgrep(sandboxRoot + "/runs/.*/port-8080.sock").stream().filter(pid -> !isServingsBridge(pid)).toList()).isEmpty();
    }

    /** What runs and where the sandbox's threads wait, when a container does not end. */
    private static void diagnose() throws Exception {
        Process ps = new ProcessBuilder("ps", "-eo", "pid,ppid,stat,etime,wchan:24,cmd").redirectErrorStream(true).start();
        System.out.println("DIAG ps:\n" + new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains("runc") || l.contains("socat") || l.contains("python") || l.contains("serve")).toList());
        Path dump = base.resolve("threads.txt");
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(ProcessHandle.current().pid()), "Thread.dump_to_file", dump.toString()).redirectErrorStream(true).start();
        jcmd.getInputStream().readAllBytes();
        jcmd.waitFor(30, TimeUnit.SECONDS);
        String threads = Files.exists(dump) ? Files.readString(dump) : "no dump";
        for (String block : threads.split("\n\n")) {
            if (block.contains("sandbox") || block.contains("dev.citadel")) {
                System.out.println("DIAG thread:\n" + block);
            }
        }
    }

    /** Whether a pid is the bridge (or a forked connection) of the shared serving container, which stays until the end. */
    private static boolean isServingsBridge(String pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", pid, "cmdline")), StandardCharsets.UTF_8)
                    .contains(runDirectory(servingId).toString());
        } catch (IOException e) {
            return true; // gone meanwhile
        }
    }

    @Test
    void aBridgeLeftByACrashedInstanceIsKilledByRemove() throws Exception {
        // What a crash leaves: a socat on the run's socket that no execution of this instance knows.
        String id = newId();
        Path run = Files.createDirectories(runDirectory(id));
        Process orphan = new ProcessBuilder("socat", "UNIX-LISTEN:" + run.resolve("port-8080.sock") + ",fork,mode=600", "TCP4:127.0.0.1:9")
                .redirectErrorStream(true).start();
        try {
            Thread.sleep(200);
            assertThat(orphan.isAlive()).isTrue();

            sandbox.remove(id);

            assertThat(orphan.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(run).doesNotExist();
        } finally {
            orphan.destroyForcibly();
        }
    }

    // --- what it costs --------------------------------------------------------------------------------------------------------------

    @Test
    void latencyOfSequentialInvocationsPooledAndFresh() throws Exception {
        ContainerHttp.Request request = invocation("text/csv", "9,9\n");
        int n = 2000;
        long[] pooled = measure(http, request, n);
        long[] ping = measure(http, get("/ping"), n);
        long[] fresh;
        try (ContainerHttp unpooled = new ContainerHttp(serving, 8080, 0)) {
            fresh = measure(unpooled, request, n);
        }
        report("POST /invocations, pooled keep-alive connection", pooled);
        report("POST /invocations, a fresh connection each time", fresh);
        report("GET /ping, pooled keep-alive connection", ping);
    }

    private static long[] measure(ContainerHttp client, ContainerHttp.Request request, int n) throws IOException {
        for (int i = 0; i < 100; i++) {
            client.exchange(request, TIMEOUT, 1 << 20);
        }
        long[] micros = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            ContainerHttp.Response r = client.exchange(request, TIMEOUT, 1 << 20);
            micros[i] = (System.nanoTime() - t) / 1000;
            if (r.status() != 200) {
                throw new AssertionError("status " + r.status());
            }
        }
        return micros;
    }

    private static void report(String what, long[] micros) {
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        System.out.printf("BENCH serving bridge: %s: n=%d p50=%d us p99=%d us max=%d us%n", what, sorted.length, sorted[sorted.length / 2],
                sorted[(int) Math.ceil(sorted.length * 0.99) - 1], sorted[sorted.length - 1]);
    }
}
