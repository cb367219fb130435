package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The soak: 64 clients, each on its own keep-alive connection, send a mix of GetCallerIdentity,
 * KMS Encrypt, S3 PutObject and GetObject of small objects (each GET checks the bytes its client
 * last put), SageMaker DescribeTrainingJob and ListTrainingJobs to a server in a child JVM for a
 * bounded time. Every few seconds it samples the server: live heap after a full GC
 * ({@code jcmd GC.run}, then the old generation's use from the operator listener's
 * {@code /metrics}), threads ({@code /proc/<pid>/status}) and open file descriptors
 * ({@code /proc/<pid>/fd}). It fails on any 5xx, on any other answer than the expected one, and
 * when the median of the last third of the samples exceeds the median of the first third by more
 * than {@link #HEAP_TOLERANCE_BYTES} plus 20 % (heap), {@link #THREAD_TOLERANCE} (threads) or
 * {@link #FD_TOLERANCE} (descriptors). The first {@code warm-up} is not sampled (the thread pool
 * and the connections grow then). Short form: 45 s, 10 s of it warm-up; {@code -Dcitadel.long=true}:
 * 600 s, 60 s of it warm-up; {@code -Dcitadel.soak.seconds=N} sets the length.
 */
@Tag("runs-once")
class SoakTest {
    static final int CLIENTS = 64;
    static final long HEAP_TOLERANCE_BYTES = 24L << 20;
    static final int THREAD_TOLERANCE = 6;
    static final int FD_TOLERANCE = 16;
    private static final Pattern OLD_GEN = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\",id=\"G1 Old Gen\"} ([0-9.E+]+)$");
    private static final Pattern LIVE_THREADS = Pattern.compile("(?m)^jvm_threads_live_threads ([0-9.E+]+)$");

    /** One sample of the server process. */
    record Sample(long second, long heapAfterGc, long threads, long javaThreads, long fds) {
    }

    @Test
    void sixtyFourClientsOfMixedOperationsGetNo5xxAndHeapThreadsAndDescriptorsStayFlat() throws Exception {
        int seconds = LongRuns.pick("citadel.soak.seconds", 45, 600);
        int warmup = LongRuns.enabled() ? 60 : 10;
        int interval = seconds >= 300 ? 15 : 5;
        Path root = Files.createTempDirectory("citadel-soak-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        Path dataDir = root.resolve("data");
        int port = ChildServer.freePort();
        int operatorPort = ChildServer.freePort();
        Process server = ChildServer.start(dataDir, port, "operator.listen=127.0.0.1:" + operatorPort);
        try {
            ClientFiles files = new ClientFiles(dataDir);
            ChildServer.pushTinyImage(dataDir, port, "soak", root);
            ClientEnvironment.Result setUp = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                    "import json, boto3",
                    String.join("\n", ChildServer.jobRoleAndBucket("SoakJobs", "soak")),
                    "boto3.client('sagemaker').create_training_job(TrainingJobName='soak', RoleArn='arn:aws:iam::%s:role/SoakJobs' % account,",
                    "    AlgorithmSpecification={'TrainingImage': 'localhost:" + port + "/soak:v1', 'TrainingInputMode': 'File',",
                    "        'ContainerEntrypoint': ['/bin/sh', '-c'], 'ContainerArguments': ['echo soak > /opt/ml/model/m']},",
                    "    OutputDataConfig={'S3OutputPath': 's3://soak-%s/jobs' % account},",
                    "    ResourceConfig={'InstanceType': 'ml.t3.medium', 'InstanceCount': 1, 'VolumeSizeInGB': 1},",
                    "    StoppingCondition={'MaxRuntimeInSeconds': 300})",
                    "print(account)",
                    "print(boto3.client('kms').create_key()['KeyMetadata']['KeyId'])")));
            assertThat(setUp.exitCode()).as(setUp.stderr()).isZero();
            String[] made = setUp.stdout().strip().split("\n");
            Load load = new Load(files, port, "soak-" + made[0], made[1]);

            List<Sample> samples = new ArrayList<>();
            Instant start = Instant.now();
            load.start();
            try {
                Thread.sleep(warmup * 1000L);
                while (Duration.between(start, Instant.now()).toSeconds() < seconds) {
                    Sample s = sample(server.pid(), operatorPort, Duration.between(start, Instant.now()).toSeconds());
                    samples.add(s);
                    Files.writeString(Path.of("target", "soak.txt"), String.format(Locale.ROOT, "%s calls %d statuses %s failures %d%n", s,
                            load.calls.sum(), load.statuses, load.failureCount.get()), StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                    assertThat(server.isAlive()).as("the server is running").isTrue();
                    long left = seconds * 1000L - Duration.between(start, Instant.now()).toMillis();
                    Thread.sleep(Math.max(0, Math.min(interval * 1000L, left)));
                }
            } finally {
                load.stop();
            }

            long[] heap = samples.stream().mapToLong(Sample::heapAfterGc).toArray();
            long[] threads = samples.stream().mapToLong(Sample::threads).toArray();
            long[] fds = samples.stream().mapToLong(Sample::fds).toArray();
            System.out.printf(Locale.ROOT, "soak: %d clients, %d s (%d s warm-up), %d calls (%.0f/s), by status %s, %d failures, the first: %s%n",
                    CLIENTS, seconds, warmup, load.calls.sum(), load.calls.sum() / (double) seconds, load.statuses, load.failureCount.get(),
                    load.failures);
            System.out.println("second  heap-after-gc-MiB  threads  java-threads  fds");
            for (Sample s : samples) {
                System.out.printf(Locale.ROOT, "%6d  %17.1f  %7d  %12d  %3d%n", s.second(), s.heapAfterGc() / 1048576.0, s.threads(),
                        s.javaThreads(), s.fds());
            }
            System.out.printf(Locale.ROOT, "growth (median of the last third - of the first): heap %.1f MiB, threads %d, fds %d%n",
                    growth(heap) / 1048576.0, growth(threads), growth(fds));

            assertThat(load.statuses.keySet()).as("no 5xx").noneMatch(s -> s >= 500);
            assertThat(load.failures).as("answers other than the expected ones").isEmpty();
            assertThat(load.calls.sum()).as("calls made").isGreaterThan(CLIENTS * 10L);
            assertThat(samples.size()).as("samples taken").isGreaterThanOrEqualTo(3);
            long heapBase = median(Arrays.copyOfRange(heap, 0, Math.max(1, heap.length / 3)));
            assertThat(growth(heap)).as("heap after GC grows (samples %s)", samples).isLessThanOrEqualTo(HEAP_TOLERANCE_BYTES + heapBase / 5);
            assertThat(growth(threads)).as("threads grow (samples %s)", samples).isLessThanOrEqualTo(THREAD_TOLERANCE);
            assertThat(growth(fds)).as("file descriptors grow (samples %s)", samples).isLessThanOrEqualTo(FD_TOLERANCE);
        } finally {
            server.destroyForcibly().waitFor();
            ChildServer.deleteTree(root);
        }
    }

    /** The median of the last third of {@code values} minus that of the first third. */
    static long growth(long[] values) {
        int third = Math.max(1, values.length / 3);
        return median(Arrays.copyOfRange(values, values.length - third, values.length)) - median(Arrays.copyOfRange(values, 0, third));
    }

    static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static Sample sample(long pid, int operatorPort, long second) throws Exception {
        Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid), "GC.run")
                .redirectErrorStream(true).start();
        String gcOut = new String(gc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gc.waitFor(60, TimeUnit.SECONDS) && gc.exitValue() == 0).as("jcmd GC.run: " + gcOut).isTrue();
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + operatorPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        long threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.substring("Threads:".length()).strip());
            }
        }
        long fds;
        try (var list = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = list.count();
        }
        return new Sample(second, (long) metric(OLD_GEN, metrics.body()), threads, (long) metric(LIVE_THREADS, metrics.body()), fds);
    }

    private static double metric(Pattern pattern, String body) {
        Matcher m = pattern.matcher(body);
        assertThat(m.find()).as("metric %s in /metrics", pattern).isTrue();
        return Double.parseDouble(m.group(1));
    }

    /** The 64 clients: each a platform thread with its own HTTP/1.1 client (so its own keep-alive connection) and its own seeded choices. */
    static final class Load {
        private final Map<String, String> credentials;
        private final String region;
        private final URI endpoint;
        private final SSLContext tls;
        private final String bucket;
        private final String keyId;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();
        final LongAdder calls = new LongAdder();
        final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        /** The first few unexpected answers (operation, status, start of the body). */
        final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicLong failureCount = new AtomicLong();
        private volatile long started;

        Load(ClientFiles files, int port, String bucket, String keyId) throws Exception {
            Map<String, String> env = ClientEnvironment.variables(files);
            this.credentials = new LinkedHashMap<>();
            for (String line : Files.readAllLines(files.credentialsFile())) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    credentials.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
                }
            }
            this.region = env.get("AWS_DEFAULT_REGION");
            this.endpoint = URI.create("https://localhost:" + port);
            this.tls = SSLContext.getInstance("TLS");
            tls.init(null, ClientEnvironment.trustManagers(files.caFile()), null);
            this.bucket = bucket;
            this.keyId = keyId;
        }

        /** Starts the clients over the first 5 s (64 TLS handshakes at once time out on a busy 2-core machine). */
        void start() throws InterruptedException {
            started = System.nanoTime();
            for (int c = 0; c < CLIENTS; c++) {
                int id = c;
                threads.add(Thread.ofPlatform().name("soak-" + c).start(() -> client(id)));
                Thread.sleep(5000 / CLIENTS);
            }
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
        }

        private SigV4Signer signer(String service) {
            return new SigV4Signer(credentials.get("aws_access_key_id"), SecretBytes.ofUtf8(credentials.get("aws_secret_access_key")), region,
                    service);
        }

        private void client(int id) {
            Random rng = new Random(id);
            Map<String, SigV4Signer> signers = Map.of("sts", signer("sts"), "kms", signer("kms"), "s3", signer("s3"), "sagemaker",
                    signer("sagemaker"));
            byte[][] objects = new byte[8][];
            try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls)
                    .connectTimeout(Duration.ofSeconds(30)).build()) {
                while (!stop.get()) {
                    int slot = rng.nextInt(objects.length);
                    String key = "/" + bucket + "/c" + id + "/" + slot;
                    int op = rng.nextInt(100);
                    if (op < 20) {
                        call(http, signers.get("sts"), "GetCallerIdentity", "POST", "/", "application/x-www-form-urlencoded; charset=utf-8",
                                null, "Action=GetCallerIdentity&Version=2011-06-15".getBytes(StandardCharsets.UTF_8), "<Account>");
                    } else if (op < 40) {
                        byte[] plain = new byte[1 + rng.nextInt(1024)];
                        rng.nextBytes(plain);
                        call(http, signers.get("kms"), "Encrypt", "POST", "/", "application/x-amz-json-1.1", "TrentService.Encrypt",
                                ("{\"KeyId\":\"" + keyId + "\",\"Plaintext\":\"" + Base64.getEncoder().encodeToString(plain) + "\"}")
                                        .getBytes(StandardCharsets.UTF_8), "CiphertextBlob");
                    } else if (op < 60 || objects[slot] == null) {
                        byte[] body = new byte[rng.nextInt(16 * 1024)];
                        rng.nextBytes(body);
                        if (call(http, signers.get("s3"), "PutObject", "PUT", key, "application/octet-stream", null, body, null) != null) {
                            objects[slot] = body;
                        }
                    } else if (op < 80) {
                        byte[] got = call(http, signers.get("s3"), "GetObject", "GET", key, null, null, null, null);
                        if (got != null && !Arrays.equals(got, objects[slot])) {
                            fail("GetObject", 200, "the object read back differs from the one put");
                        }
                    } else if (op < 90) {
                        call(http, signers.get("sagemaker"), "DescribeTrainingJob", "POST", "/", "application/x-amz-json-1.1",
                                "SageMaker.DescribeTrainingJob", "{\"TrainingJobName\":\"soak\"}".getBytes(StandardCharsets.UTF_8),
                                "TrainingJobStatus");
                    } else {
                        call(http, signers.get("sagemaker"), "ListTrainingJobs", "POST", "/", "application/x-amz-json-1.1",
                                "SageMaker.ListTrainingJobs", "{}".getBytes(StandardCharsets.UTF_8), "TrainingJobSummaries");
                    }
                }
            }
        }

        /** Signs and sends one call; returns the body of a 200 that holds {@code marker} (when given), else null after recording why. */
        private byte[] call(HttpClient http, SigV4Signer signer, String operation, String method, String path, String contentType,
                String target, byte[] body, String marker) {
            byte[] payload = body == null ? new byte[0] : body;
            String payloadHash = SigV4.sha256Hex(payload);
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("host", endpoint.getAuthority());
            headers.put("x-amz-content-sha256", payloadHash);
            if (contentType != null) {
                headers.put("content-type", contentType);
            }
            if (target != null) {
                headers.put("x-amz-target", target);
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.resolve(path)).timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(payload));
            signer.signHeaders(method, path, "", headers, payloadHash, Instant.now()).forEach((k, v) -> {
                if (!k.equalsIgnoreCase("host")) {
                    request.header(k, v);
                }
            });
            HttpResponse<byte[]> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                fail(operation, -1, e.toString());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            calls.increment();
            statuses.computeIfAbsent(response.statusCode(), s -> new LongAdder()).increment();
            String text = marker == null ? "" : new String(response.body(), StandardCharsets.UTF_8);
            if (response.statusCode() != 200 || (marker != null && !text.contains(marker))) {
                fail(operation, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
                return null;
            }
            return response.body();
        }

        private void fail(String operation, int status, String detail) {
            if (failureCount.incrementAndGet() <= 20) {
                failures.add("at " + (System.nanoTime() - started) / 1_000_000_000L + " s: " + operation + " " + status + " "
                        + detail.substring(0, Math.min(200, detail.length())));
            }
        }
    }
}
