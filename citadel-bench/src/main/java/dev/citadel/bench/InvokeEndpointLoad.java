package dev.citadel.bench;

import static java.util.Objects.requireNonNull;

import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The InvokeEndpoint benchmark (DESIGN.md §11: added latency and throughput against the direct
 * path): one small invocation sent over and over at a fixed concurrency, one keep-alive
 * connection per thread, on two paths to the same serving container:
 * <ul>
 *   <li><b>direct</b>: plain HTTP/1.1 {@code POST /invocations} on the container's port bridge,
 *       the root-only Unix socket {@code <data-dir>/sandbox/runs/<run-id>/port-8080.sock}, with
 *       the head Citadel's {@code ContainerHttp} sends ({@code Host}, {@code Content-Length},
 *       {@code Content-Type}, {@code Accept}): what a call costs without Citadel;</li>
 *   <li><b>citadel</b>: {@code POST /endpoints/<name>/invocations} over HTTPS to the running
 *       Citadel whose data directory is given, signed once with SigV4 (service {@code sagemaker})
 *       with the credentials its {@code client/env} names, then replayed: TLS, authentication,
 *       the policy decision, the audit event made durable, the bridge through ContainerHttp's
 *       pool and the restJson1 answer.</li>
 * </ul>
 * Before measuring, one call on each path must answer 200 with the same body; every measured call
 * must answer 200 with that body too (anything else counts as failed). The paths take turns for a
 * number of rounds (direct, citadel, direct, citadel, …), each round with its own warm-up and new
 * connections. Prints calls/s and p50/p99 of each path over all its rounds, the added latency
 * (Citadel's percentile minus the direct one, each percentile taken over all counted calls of its
 * path) and the throughput ratio (calls/s over all rounds). With {@code cpuOf}, also the CPU time that
 * each named process (and its descendants) and the load tool itself spent per counted call on
 * each path, over the measured periods ({@link ProcessCpu}).
 */
final class InvokeEndpointLoad {
    static final String DIRECT = "direct";
    static final String CITADEL = "citadel";
    static final List<String> TARGETS = List.of(DIRECT, CITADEL);
    private static final String DIRECT_LABEL = "direct: the container's Unix socket (port bridge), HTTP/1.1";
    private static final String CITADEL_LABEL = "InvokeEndpoint through Citadel: HTTPS, SigV4";
    private static final String LOAD_TOOL = "load tool (this JVM)";

    /** What to measure: the running Citadel's data directory, the endpoint, the direct socket, the call, the load. */
    record Settings(Path dataDir, String endpoint, Optional<Path> socket, String contentType, String body, List<String> targets,
            int connections, Duration warmup, Duration measure, int rounds, Map<String, ProcessCpu.Watched> cpuOf) {
        Settings {
            requireNonNull(dataDir, "dataDir is null");
            requireNonNull(endpoint, "endpoint is null");
            requireNonNull(socket, "socket is null");
            requireNonNull(contentType, "contentType is null");
            requireNonNull(body, "body is null");
            targets = List.copyOf(targets);
            cpuOf = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(cpuOf)); // in the order given: the rows of the CPU table
            requireNonNull(warmup, "warmup is null");
            requireNonNull(measure, "measure is null");
            if (targets.isEmpty() || !TARGETS.containsAll(targets)) {
                throw new IllegalArgumentException("invoke-endpoint takes the targets " + String.join(", ", TARGETS));
            }
            if (targets.contains(DIRECT) && socket.isEmpty()) {
                throw new IllegalArgumentException("the direct target needs --socket (the container's port-8080.sock)");
            }
            if (connections < 1) {
                throw new IllegalArgumentException("--connections must be at least 1");
            }
            if (rounds < 1) {
                throw new IllegalArgumentException("--rounds must be at least 1");
            }
        }
    }

    private InvokeEndpointLoad() {
    }

    static int run(Settings s) throws Exception {
        Map<String, String> env = exports(s.dataDir().resolve("client/env"));
        URI url = URI.create(required(env, "AWS_ENDPOINT_URL"));
        String region = required(env, "AWS_DEFAULT_REGION");
        Map<String, String> creds = LoadTool.credentials(Path.of(required(env, "AWS_SHARED_CREDENTIALS_FILE")));
        SSLContext tls = LoadTool.trusting(Path.of(required(env, "AWS_CA_BUNDLE")));
        SigV4Signer signer = new SigV4Signer(required(creds, "aws_access_key_id"), SecretBytes.ofUtf8(required(creds, "aws_secret_access_key")),
                region, "sagemaker");
        String host = url.getHost();
        int port = url.getPort() > 0 ? url.getPort() : 443;
        byte[] payload = s.body().getBytes(StandardCharsets.UTF_8);
        byte[] direct = directRequest(s.contentType(), payload);
        byte[] signed = signedInvoke(signer, url.getRawAuthority(), s.endpoint(), s.contentType(), payload);

        Map<String, Supplier<HttpConnection>> paths = new LinkedHashMap<>();
        Map<String, byte[]> requests = new LinkedHashMap<>();
        for (String t : s.targets()) {
            if (t.equals(DIRECT)) {
                Path socket = s.socket().orElseThrow();
                paths.put(t, () -> new HttpConnection(socket));
                requests.put(t, direct);
            } else {
                paths.put(t, () -> new HttpConnection(host, port, tls));
                requests.put(t, signed);
            }
        }
        // One call on each path first: both must answer 200 with the same body, which every measured call must return.
        byte[] expected = null;
        for (String t : s.targets()) {
            try (HttpConnection c = paths.get(t).get()) {
                HttpConnection.Response r = c.send(requests.get(t), new byte[0]);
                byte[] answer = c.lastBody();
                if (r.status() != 200) {
                    throw new IOException(t + ": the first call answered " + r.status() + ": " + new String(answer, StandardCharsets.UTF_8));
                }
                if (expected != null && !Arrays.equals(expected, answer)) {
                    throw new IOException(t + ": the first call answered " + printable(answer) + ", the direct path " + printable(expected));
                }
                if (answer.length == 0) {
                    throw new IOException(t + ": the first call answered an empty body");
                }
                expected = answer;
            }
        }
        System.out.printf(Locale.ROOT, "InvokeEndpoint %s: %s %s -> %s%n", s.endpoint(), s.contentType(), printable(payload), printable(expected));

        // The paths take turns, round after round, so that a change in the machine's load between
        // them (it is shared) weighs on both alike; each path's rounds are then taken together.
        Map<String, List<LoadRun.Result>> rounds = new LinkedHashMap<>();
        Map<String, ProcessCpu.Watched> watched = new LinkedHashMap<>();
        watched.put(LOAD_TOOL, new ProcessCpu.Watched(ProcessHandle.current().pid(), false));
        watched.putAll(s.cpuOf());
        Map<String, ProcessCpu> cpu = new LinkedHashMap<>();
        s.targets().forEach(t -> cpu.put(t, new ProcessCpu(watched)));
        for (int round = 1; round <= s.rounds(); round++) {
            for (String t : s.targets()) {
                byte[] request = requests.get(t);
                LoadRun.Result r = LoadRun.run(label(t), paths.get(t), c -> request, expected, s.connections(), s.warmup(), s.measure(),
                        cpu.get(t));
                rounds.computeIfAbsent(t, k -> new ArrayList<>()).add(r);
                if (s.rounds() > 1) {
                    System.out.printf(Locale.ROOT, "round %d, %s: %.0f calls/s, p50 %.3f ms, p99 %.3f ms, %d failed%n", round, t,
                            r.callsPerSecond(), r.p50Micros() / 1000, r.p99Micros() / 1000, r.failures());
                }
            }
        }
        List<LoadRun.Result> results = new ArrayList<>();
        rounds.forEach((t, runs) -> results.add(LoadRun.Result.merge(label(t), runs)));
        rounds.keySet().forEach(t -> BenchResults.record("invoke-endpoint-c" + s.connections(), t,
                results.stream().filter(r -> r.target().equals(label(t))).findFirst().orElseThrow()));
        print(s, results);
        printCpu(watched.keySet(), cpu, results);
        return results.stream().allMatch(r -> r.calls() > 0 && r.failures() == 0) ? 0 : 1;
    }

    /** Each watched process's CPU time per counted call, for each path (its measured periods only). */
    private static void printCpu(java.util.Set<String> names, Map<String, ProcessCpu> cpu, List<LoadRun.Result> results) {
        List<String> paths = new ArrayList<>(cpu.keySet());
        System.out.println();
        StringBuilder head = new StringBuilder("| CPU time per call, µs |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String p : paths) {
            head.append(' ').append(p).append(" |");
            rule.append("---:|");
        }
        System.out.println(head);
        System.out.println(rule);
        long[] total = new long[paths.size()];
        for (String name : names) {
            StringBuilder row = new StringBuilder("| ").append(name).append(" |");
            for (int i = 0; i < paths.size(); i++) {
                long nanos = cpu.get(paths.get(i)).spentNanos().getOrDefault(name, 0L);
                total[i] += nanos;
                row.append(String.format(Locale.ROOT, " %.0f |", nanos / 1000.0 / Math.max(1, results.get(i).calls())));
            }
            System.out.println(row);
        }
        StringBuilder row = new StringBuilder("| all of these |");
        for (int i = 0; i < paths.size(); i++) {
            row.append(String.format(Locale.ROOT, " %.0f |", total[i] / 1000.0 / Math.max(1, results.get(i).calls())));
        }
        System.out.println(row);
    }

    private static String label(String target) {
        return target.equals(DIRECT) ? DIRECT_LABEL : CITADEL_LABEL;
    }

    private static void print(Settings s, List<LoadRun.Result> results) {
        System.out.printf(Locale.ROOT, "%n%d keep-alive connections; %d round(s), each path %d s warm-up and %d s measured per round; %d cores%n%n",
                s.connections(), s.rounds(), s.warmup().toSeconds(), s.measure().toSeconds(), Runtime.getRuntime().availableProcessors());
        System.out.println("| path | calls/s | p50 ms | p99 ms | failed |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (LoadRun.Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %.0f | %.3f | %.3f | %d |%n", r.target(), r.callsPerSecond(), r.p50Micros() / 1000,
                    r.p99Micros() / 1000, r.failures());
        }
        if (results.size() == 2) {
            LoadRun.Result direct = results.get(0);
            LoadRun.Result citadel = results.get(1);
            System.out.println();
            System.out.printf(Locale.ROOT, "added latency p50: %.3f ms (target <= 1 ms)%n", (citadel.p50Micros() - direct.p50Micros()) / 1000);
            System.out.printf(Locale.ROOT, "added latency p99: %.3f ms (target <= 5 ms)%n", (citadel.p99Micros() - direct.p99Micros()) / 1000);
            System.out.printf(Locale.ROOT, "throughput Citadel / direct: %.0f %% (target >= 80 %%)%n",
                    100 * citadel.callsPerSecond() / direct.callsPerSecond());
        }
    }

    /** The request ContainerHttp sends for this invocation (Host, Content-Length, then the headers). */
    static byte[] directRequest(String contentType, byte[] body) {
        String head = "POST /invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + body.length + "\r\nContent-Type: " + contentType
                + "\r\nAccept: " + contentType + "\r\n\r\n";
        return concat(head.getBytes(StandardCharsets.ISO_8859_1), body);
    }

    /** A SigV4-signed InvokeEndpoint, as the AWS SDKs send it (no x-amz-content-sha256; the payload's hash is signed). */
    static byte[] signedInvoke(SigV4Signer signer, String authority, String endpoint, String contentType, byte[] body) {
        String path = "/endpoints/" + endpoint + "/invocations";
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", authority);
        headers.put("Content-Type", contentType);
        headers.put("Accept", contentType);
        Map<String, String> signed = signer.signHeaders("POST", path, "", headers, SigV4.sha256Hex(body), Instant.now());
        StringBuilder sb = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\n");
        signed.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        sb.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        return concat(sb.toString().getBytes(StandardCharsets.UTF_8), body);
    }

    private static byte[] concat(byte[] head, byte[] body) {
        byte[] out = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, out, head.length, body.length);
        return out;
    }

    private static String printable(byte[] bytes) {
        String s = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8);
        return s.replace("\n", "\\n").replace("\r", "\\r");
    }

    /** The {@code export NAME=VALUE} lines of Citadel's client/env (values single-quoted as a shell reads them). */
    static Map<String, String> exports(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.startsWith("export ")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                continue;
            }
            out.put(line.substring("export ".length(), eq).strip(), unquote(line.substring(eq + 1)));
        }
        return out;
    }

    /** A shell word of plain characters and single-quoted parts ('it'"'"'s' is it's); anything after an unquoted $ is dropped. */
    private static String unquote(String word) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < word.length()) {
            char c = word.charAt(i);
            if (c == '\'') {
                int end = word.indexOf('\'', i + 1);
                out.append(word, i + 1, end < 0 ? word.length() : end);
                i = end < 0 ? word.length() : end + 1;
            } else if (c == '"') {
                int end = word.indexOf('"', i + 1);
                out.append(word, i + 1, end < 0 ? word.length() : end);
                i = end < 0 ? word.length() : end + 1;
            } else if (c == '$') {
                break;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String required(Map<String, String> values, String name) {
        String v = values.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalStateException(name + " is missing from Citadel's client files");
        }
        return v;
    }
}
