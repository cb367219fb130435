package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import dev.citadel.server.config.ConfigKey;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.server.config.Settings;
import dev.citadel.services.cloudtrail.TrailVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The crash consistency harness: a mixed workload ({@code crash_workload.py}: S3 PUTs of 0 B to
 * 3 MiB and multipart uploads, KMS CreateKey and Encrypt, IAM CreateUser and PutUserPolicy,
 * training jobs of the tiny image) against a server in a child JVM, killed with SIGKILL at a
 * random delay, then restarted on the same data directory, run after run. After each kill:
 * <ul>
 *   <li>before the restart, the trails' digest chains as the crash left them verify
 *       ({@link TrailVerifier}, what {@code citadel audit verify} runs; digests every second);</li>
 *   <li>after it, every acknowledged object reads back intact, every listed object is exactly what
 *       some PUT sent, every acknowledged KMS key, ciphertext, IAM user and policy is there
 *       ({@code crash_check.py});</li>
 *   <li>every acknowledged request's request id has its event in the audit log, and every line of
 *       the log but the last is a whole record;</li>
 *   <li>every job ends truthfully (Completed with its model in the bucket, or Failed with a
 *       reason) and no container, run directory, mount or loop device of the sandbox is left.</li>
 * </ul>
 * Runs share the data directory (and so also check that earlier runs' work survives later kills, at
 * the end). Run {@code r} uses the seed {@code S + r}, which draws the kill delay and the
 * workload's choices; {@code S} is printed, and {@code -Dcitadel.crash.seed=S -Dcitadel.crash.runs=1}
 * replays one run (timing makes a replay close, not identical). Short form: 2 runs;
 * {@code -Dcitadel.long=true}: 50 runs; {@code -Dcitadel.crash.runs=N}: N; {@code -Dcitadel.crash.minutes=M}
 * starts no run after M minutes.
 */
@Tag("runs-once")
class CrashConsistencyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SETTINGS = {"audit.delivery-interval=1s", "audit.digest-interval=1s"};

    @Test
    void acknowledgedWorkSurvivesKillNineAtRandomPointsAndNothingIsLeftBehind() throws Exception {
        int runs = LongRuns.pick("citadel.crash.runs", 2, 50);
        long seed = Long.getLong("citadel.crash.seed", Math.floorMod(System.nanoTime(), 1_000_000L));
        progress("crash harness: %d runs, seeds %d..%d (replay run r: -Dcitadel.crash.seed=<%d + r> "
                + "-Dcitadel.crash.runs=1)%n", runs, seed, seed + runs - 1, seed);
        Path root = Files.createTempDirectory("citadel-crash-harness-");
        // containers reach their root file system through the data directory's parents
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        Path dataDir = root.resolve("data");
        int port = ChildServer.freePort();
        Process server = ChildServer.start(dataDir, port, SETTINGS);
        List<Path> logs = new ArrayList<>();
        Instant began = Instant.now();
        try {
            ClientFiles files = new ClientFiles(dataDir);
            ChildServer.pushTinyImage(dataDir, port, "crash", root);
            ClientEnvironment.Result setUp = ClientEnvironment.run(files, List.of("python3", "-c", String.join("\n",
                    "import json, boto3",
                    String.join("\n", ChildServer.jobRoleAndBucket("CrashJobs", "crash")))));
            assertThat(setUp.exitCode()).as(setUp.stderr()).isZero();
            String image = "localhost:" + port + "/crash:v1";
            progress("set up in %d ms%n", Duration.between(began, Instant.now()).toMillis());

            // -Dcitadel.crash.minutes=M: start no run after M minutes (a time box on a busy machine; the end says how many ran)
            Instant stopStarting = began.plus(Duration.ofMinutes(Long.getLong("citadel.crash.minutes", 24 * 60)));
            int done = 0;
            for (int run = 0; run < runs && Instant.now().isBefore(stopStarting); run++, done++) {
                long runSeed = seed + run;
                long delayMillis = 200 + new Random(runSeed).nextInt(6000);
                Path log = root.resolve(String.format(Locale.ROOT, "run-%03d.jsonl", run));
                Files.createFile(log);
                logs.add(log);
                Instant t0 = Instant.now();
                int acknowledged = killDuringWorkload(server, dataDir, log, runSeed, run, image, delayMillis);
                Instant killed = Instant.now();

                List<String> findings = new ArrayList<>();
                TrailVerifier.Report chains = verifyTrails(dataDir);
                if (!chains.valid()) {
                    findings.add("digest chains after the kill: " + chains.lines().stream().filter(l -> !l.endsWith("\tvalid")).toList());
                }
                Instant verified = Instant.now();
                server = ChildServer.start(dataDir, port, SETTINGS);
                Instant restarted = Instant.now();
                JsonNode checked = check(files, 180, false, logs);
                findings.addAll(findingsOf(checked));
                findings.addAll(auditFindings(dataDir, List.of(log)));
                findings.addAll(sandboxFindings(dataDir));
                progress("run %d seed %d: killed %d ms after the first answer, %d acknowledged, jobs %s, "
                        + "%d digests valid, findings %s (ms: workload %d, verify %d, restart %d, checks %d)%n", run, runSeed, delayMillis,
                        acknowledged, checked.path("jobs"), chains.digestsValid(), findings, Duration.between(t0, killed).toMillis(),
                        Duration.between(killed, verified).toMillis(), Duration.between(verified, restarted).toMillis(),
                        Duration.between(restarted, Instant.now()).toMillis());
                assertThat(findings).as("run %d, seed %d (kill %d ms after the first answer)", run, runSeed, delayMillis).isEmpty();
            }

            // Every run's acknowledged work once more, after all the later kills.
            JsonNode all = check(files, 180, true, logs);
            List<String> findings = new ArrayList<>(findingsOf(all));
            findings.addAll(auditFindings(dataDir, logs));
            server.destroy();
            assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("the server stops on SIGTERM").isTrue();
            TrailVerifier.Report chains = verifyTrails(dataDir);
            progress("crash harness: %d of %d runs from seed %d in %d s, %d acknowledgements checked at the end, "
                    + "jobs %s, %d digests and %d log files valid, findings %s%n", done, runs, seed,
                    Duration.between(began, Instant.now()).toSeconds(), all.path("acks").asInt(), all.path("jobs"), chains.digestsValid(),
                    chains.logsValid(), findings);
            assertThat(findings).as("all runs from seed %d, checked at the end", seed).isEmpty();
            assertThat(chains.valid()).as(String.join("\n", chains.lines())).isTrue();
            assertThat(chains.digestsValid()).as("digests were delivered and checked").isPositive();
        } finally {
            server.destroyForcibly().waitFor();
            reapLeftovers(dataDir, port);
            ChildServer.deleteTree(root);
        }
    }

    /**
     * After a failure the last kill may have left a job's container and its mounted volume: a start
     * removes them (as it does after any crash), then the server is stopped, so that the test
     * leaves no container or mount behind whatever happened.
     */
    private static void reapLeftovers(Path dataDir, int port) throws Exception {
        Path runs = dataDir.resolve("sandbox/runs");
        boolean left;
        try (var list = Files.isDirectory(runs) ? Files.list(runs) : java.util.stream.Stream.<Path>empty()) {
            left = list.findAny().isPresent();
        }
        if (left) {
            Process reaper = ChildServer.start(dataDir, port, SETTINGS);
            reaper.destroy();
            if (!reaper.waitFor(60, TimeUnit.SECONDS)) {
                reaper.destroyForcibly().waitFor();
            }
        }
    }

    /** Prints a line and appends it to target/crash-harness.txt, which a long run fills as it goes. */
    private static void progress(String format, Object... args) {
        String line = String.format(Locale.ROOT, format, args);
        System.out.print(line);
        try {
            Files.writeString(Path.of("target", "crash-harness.txt"), line, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Runs the workload until it has answered once, waits {@code delayMillis}, kills the server
     * with SIGKILL and waits for the workload to notice; returns how many acknowledgements it logged.
     */
    private static int killDuringWorkload(Process server, Path dataDir, Path log, long seed, int run, String image, long delayMillis)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", ClientEnvironment.resourceFile("/acceptance/crash_workload.py").toString(),
                log.toString(), Long.toString(seed), Integer.toString(run), image);
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
        pb.environment().putAll(ClientEnvironment.variables(new ClientFiles(dataDir)));
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.resolveSibling("workload.log").toFile()));
        Process client = pb.start();
        try {
            Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
            while (acknowledgements(log) == 0 && client.isAlive() && Instant.now().isBefore(deadline)) {
                Thread.sleep(10);
            }
            assertThat(acknowledgements(log)).as("the workload got an answer (see workload.log)").isPositive();
            Thread.sleep(delayMillis);
            assertThat(client.isAlive()).as("the workload was still running at the kill").isTrue();
            server.destroyForcibly(); // SIGKILL
            server.waitFor();
            assertThat(client.waitFor(60, TimeUnit.SECONDS)).as("the workload ends once the server is gone").isTrue();
        } finally {
            client.destroyForcibly();
        }
        return acknowledgements(log);
    }

    private static int acknowledgements(Path log) throws IOException {
        return (int) Files.readAllLines(log).stream().filter(l -> l.startsWith("{\"ack\"")).count();
    }

    private static TrailVerifier.Report verifyTrails(Path dataDir) throws IOException {
        ServerConfig config = ServerConfig.from(Settings.defaults().with(ConfigKey.DATA_DIR, dataDir.toString()));
        try (Citadel.Offline offline = Citadel.openOffline(config)) {
            return new TrailVerifier(offline.store(), offline.s3()).verify("");
        }
    }

    /**
     * Runs crash_check.py: intents come from all {@code logs}; acknowledgements from all of them,
     * or from the last one only.
     */
    private static JsonNode check(ClientFiles files, int jobWaitSeconds, boolean acksOfAll, List<Path> logs) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/crash_check.py").toString(),
                Integer.toString(jobWaitSeconds), acksOfAll ? "all" : "last"));
        logs.forEach(l -> command.add(l.toString()));
        ClientEnvironment.Result r = ClientEnvironment.run(files, command, java.util.Map.of(), Duration.ofSeconds(300));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }

    private static List<String> findingsOf(JsonNode checked) {
        List<String> findings = new ArrayList<>();
        checked.properties().forEach(e -> {
            if (e.getValue().isArray() && !e.getValue().isEmpty()) {
                findings.add(e.getKey() + ": " + e.getValue());
            }
        });
        return findings;
    }

    /** Every acknowledged request id has its event; only the last line of the log may be torn. */
    private static List<String> auditFindings(Path dataDir, List<Path> logs) throws IOException {
        List<String> lines = Files.readAllLines(dataDir.resolve("audit/events.jsonl"), StandardCharsets.UTF_8);
        Set<String> recorded = new HashSet<>();
        List<String> findings = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            try {
                recorded.add(JSON.readTree(lines.get(i)).path("requestID").asText());
            } catch (IOException torn) {
                if (i != lines.size() - 1) {
                    findings.add("audit log line " + (i + 1) + " of " + lines.size() + " is not a whole record: "
                            + lines.get(i).substring(0, Math.min(120, lines.get(i).length())));
                }
            }
        }
        for (Path log : logs) {
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith("{\"ack\"")) {
                    String rid = JSON.readTree(line).path("rid").asText();
                    if (!recorded.contains(rid)) {
                        findings.add("acknowledged request " + rid + " has no audit event: " + line.substring(0, Math.min(120, line.length())));
                    }
                }
            }
        }
        return findings;
    }

    /** Once every job has ended: no container in runc's state, no run directory, no mount or loop device under the data directory. */
    private static List<String> sandboxFindings(Path dataDir) throws Exception {
        List<String> findings = new ArrayList<>();
        Path state = dataDir.resolve("sandbox/state");
        String containers = Files.isDirectory(state) ? command("runc", "--root", state.toString(), "list", "-q").strip() : "";
        if (!containers.isEmpty()) {
            findings.add("containers left: " + containers);
        }
        Path runs = dataDir.resolve("sandbox/runs");
        if (Files.isDirectory(runs)) {
            try (var left = Files.list(runs)) {
                List<Path> dirs = left.toList();
                if (!dirs.isEmpty()) {
                    findings.add("run directories left: " + dirs);
                }
            }
        }
        String real = dataDir.toRealPath().toString();
        List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> l.contains(real)).toList();
        if (!mounts.isEmpty()) {
            findings.add("mounts left: " + mounts);
        }
        List<String> loops = command("losetup", "-a").lines().filter(l -> l.contains(real)).toList();
        if (!loops.isEmpty()) {
            findings.add("loop devices left: " + loops);
        }
        return findings;
    }

    private static String command(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        return out;
    }
}
