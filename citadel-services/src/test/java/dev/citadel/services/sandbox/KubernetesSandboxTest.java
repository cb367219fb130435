package dev.citadel.services.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link KubernetesSandbox} against fabric8's mock API server in CRUD mode. The mock runs no
 * controllers and no kubelet: the tests create the Job's pod themselves and write its status as a
 * kubelet would. Files move through a recording {@link PodTransfer}; {@link ExecPodTransfer}'s
 * handling of untrusted archives is tested on its own, and its download once over the mock's
 * exec WebSocket (expectation mode, which the CRUD mode serves first).
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesSandboxTest {
    private static final String NS = "citadel-runs";
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir
    Path root;

    private final RecordingTransfer transfer = new RecordingTransfer();
    private KubernetesSandbox sandbox;

    @BeforeEach
    void setUp() {
        KubernetesSandbox.Settings settings = new KubernetesSandbox.Settings(NS, "citadel-runner", 1234, Optional.of("gvisor"),
                Optional.of("citadel-registry"), "busybox@sha256:" + "cd".repeat(32), root.resolve("runs"));
        sandbox = new KubernetesSandbox(client, settings, transfer,
                new KubernetesSandbox.Timing(Duration.ofMillis(50), Duration.ofMinutes(1), Duration.ofMinutes(5)), Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        sandbox.close();
    }

    private static ContainerSpec spec(Optional<List<String>> entrypoint, List<String> arguments, List<ContainerSpec.Mount> mounts,
            Duration timeLimit) {
        return new ContainerSpec(new ContainerSpec.Image(DIGEST, "registry.citadel.test/team/trainer@" + DIGEST, (dir, tag) -> {
        }), entrypoint, arguments, Map.of("B", "2", "A", "1"), "/opt/ml", mounts,
                new ContainerSpec.Limits(1.5, 2L << 30, 256, 1 << 20), timeLimit, Duration.ofSeconds(30));
    }

    private static ContainerSpec spec() {
        return spec(Optional.empty(), List.of("train"), List.of(), Duration.ofHours(1));
    }

    private Job job(String id) {
        return client.batch().v1().jobs().inNamespace(NS).withName(id).get();
    }

    @Test
    void theJobIsLabelledRunsOnceAndHasADeadlineBeyondTheTimeLimit() throws IOException {
        sandbox.createVolume("run-1", 10L << 30);
        sandbox.start("run-1", spec(), Sandbox.OutputSink.DISCARD);

        Job job = job("run-1");
        assertThat(job.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(
                Map.of("app.kubernetes.io/managed-by", "citadel", "citadel.dev/run", "run-1"));
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).isEqualTo(job.getMetadata().getLabels());
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        // time limit + grace + staging and collection (5 minutes each here)
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(3600 + 30 + 600);
        assertThat(job.getSpec().getTemplate().getSpec().getRestartPolicy()).isEqualTo("Never");
    }

    @Test
    void thePodHasNoTokenNoServiceLinksNoHostNamespacesAndTheConfiguredRuntimeAccountAndPullSecret() throws IOException {
        sandbox.createVolume("run-2", 1L << 30);
        sandbox.start("run-2", spec(), Sandbox.OutputSink.DISCARD);

        PodSpec pod = job("run-2").getSpec().getTemplate().getSpec();
        assertThat(pod.getAutomountServiceAccountToken()).isFalse();
        assertThat(pod.getEnableServiceLinks()).isFalse();
        assertThat(pod.getServiceAccountName()).isEqualTo("citadel-runner");
        assertThat(pod.getHostNetwork()).isFalse();
        assertThat(pod.getHostPID()).isFalse();
        assertThat(pod.getHostIPC()).isFalse();
        assertThat(pod.getShareProcessNamespace()).isFalse();
        assertThat(pod.getRuntimeClassName()).isEqualTo("gvisor");
        assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).containsExactly("citadel-registry");
        assertThat(pod.getTerminationGracePeriodSeconds()).isEqualTo(30);
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(1234);
        assertThat(pod.getSecurityContext().getRunAsGroup()).isEqualTo(1234);
        assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(1234);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getInitContainers()).extracting(Container::getName).containsExactly("stage");
        assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("main", "collect");
    }

    @Test
    void everyContainerRunsNonRootReadOnlyUnprivilegedWithoutCapabilities() throws IOException {
        sandbox.createVolume("run-3", 1L << 30);
        sandbox.start("run-3", spec(), Sandbox.OutputSink.DISCARD);

        PodSpec pod = job("run-3").getSpec().getTemplate().getSpec();
        List<Container> all = new ArrayList<>(pod.getInitContainers());
        all.addAll(pod.getContainers());
        assertThat(all).hasSize(3);
        for (Container c : all) {
            SecurityContext sc = c.getSecurityContext();
            assertThat(sc.getRunAsNonRoot()).as(c.getName()).isTrue();
            assertThat(sc.getRunAsUser()).as(c.getName()).isEqualTo(1234);
            assertThat(sc.getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
            assertThat(sc.getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
            assertThat(sc.getPrivileged()).as(c.getName()).isFalse();
            assertThat(sc.getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
            assertThat(sc.getCapabilities().getAdd()).as(c.getName()).isNullOrEmpty();
            assertThat(sc.getSeccompProfile().getType()).as(c.getName()).isEqualTo("RuntimeDefault");
            assertThat(c.getImagePullPolicy()).as(c.getName()).isEqualTo("IfNotPresent");
            assertThat(c.getResources().getRequests()).as(c.getName()).isEqualTo(c.getResources().getLimits());
        }
        assertThat(pod.getInitContainers().getFirst().getImage()).isEqualTo("busybox@sha256:" + "cd".repeat(32));
    }

    @Test
    void theMainContainerRunsTheImageByDigestWithItsResourcesAndEnvironment() throws IOException {
        sandbox.createVolume("run-4", 1L << 30);
        sandbox.start("run-4", spec(), Sandbox.OutputSink.DISCARD);

        Container main = job("run-4").getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(main.getImage()).isEqualTo("registry.citadel.test/team/trainer@" + DIGEST);
        assertThat(main.getResources().getLimits()).containsOnlyKeys("cpu", "memory");
        assertThat(Quantity.getAmountInBytes(main.getResources().getLimits().get("cpu"))).isEqualByComparingTo("1.5");
        assertThat(Quantity.getAmountInBytes(main.getResources().getLimits().get("memory")).longValueExact()).isEqualTo(2L << 30);
        assertThat(main.getEnv()).extracting(EnvVar::getName, EnvVar::getValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("A", "1"), org.assertj.core.groups.Tuple.tuple("B", "2"));
    }

    @Test
    void anAbsentEntrypointKeepsTheImagesAndArgumentsReplaceItsCmd() throws IOException {
        sandbox.createVolume("run-5", 1L << 30);
        sandbox.start("run-5", spec(), Sandbox.OutputSink.DISCARD);

        Container main = job("run-5").getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(main.getCommand()).isNullOrEmpty();
        assertThat(main.getArgs()).containsExactly("train");
    }

    @Test
    void anEntrypointBecomesTheCommandAndNoArgumentsKeepArgsUnset() throws IOException {
        sandbox.createVolume("run-6", 1L << 30);
        sandbox.start("run-6", spec(Optional.of(List.of("python3", "/opt/ml/code/process.py")), List.of(), List.of(), Duration.ofHours(1)),
                Sandbox.OutputSink.DISCARD);

        Container main = job("run-6").getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(main.getCommand()).containsExactly("python3", "/opt/ml/code/process.py");
        assertThat(main.getArgs()).isNullOrEmpty();
    }

    @Test
    void theVolumeTmpAndEachMountAreSizedEmptyDirsMountedWhereTheSpecSays() throws IOException {
        Path volume = sandbox.createVolume("run-7", 5L << 30);
        Path data = Files.createDirectories(volume.resolve("input/data/train"));
        Files.write(data.resolve("part-0"), new byte[10_000]);
        sandbox.start("run-7", spec(Optional.empty(), List.of("train"),
                List.of(new ContainerSpec.Mount(volume.resolve("input/data"), "/opt/ml/input/data", true)), Duration.ofHours(1)),
                Sandbox.OutputSink.DISCARD);

        PodSpec pod = job("run-7").getSpec().getTemplate().getSpec();
        Map<String, Volume> volumes = new java.util.HashMap<>();
        pod.getVolumes().forEach(v -> volumes.put(v.getName(), v));
        assertThat(volumes).containsOnlyKeys("volume", "tmp", "control", "mount-0");
        assertThat(bytes(volumes.get("volume").getEmptyDir().getSizeLimit())).isEqualTo(5L << 30);
        assertThat(volumes.get("volume").getEmptyDir().getMedium()).isNullOrEmpty();
        assertThat(volumes.get("tmp").getEmptyDir().getMedium()).isEqualTo("Memory");
        assertThat(bytes(volumes.get("tmp").getEmptyDir().getSizeLimit())).isEqualTo(256L << 20);
        // two directories and one 10,000-byte file (three blocks) in 4 KiB blocks, plus 16 blocks of room
        assertThat(bytes(volumes.get("mount-0").getEmptyDir().getSizeLimit())).isEqualTo((16 + 2 + 1 + 3) * 4096L);

        Container main = pod.getContainers().getFirst();
        assertThat(main.getVolumeMounts()).extracting(VolumeMount::getName, VolumeMount::getMountPath, VolumeMount::getReadOnly)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("volume", "/opt/ml", false),
                        org.assertj.core.groups.Tuple.tuple("tmp", "/tmp", false),
                        org.assertj.core.groups.Tuple.tuple("mount-0", "/opt/ml/input/data", true));
        Container stage = pod.getInitContainers().getFirst();
        assertThat(stage.getVolumeMounts()).extracting(VolumeMount::getName, VolumeMount::getMountPath, VolumeMount::getReadOnly)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("volume", "/citadel/volume", false),
                        org.assertj.core.groups.Tuple.tuple("control", "/citadel/control", false),
                        org.assertj.core.groups.Tuple.tuple("mount-0", "/citadel/mounts/0", false));
        Container collect = pod.getContainers().get(1);
        assertThat(collect.getVolumeMounts()).extracting(VolumeMount::getName, VolumeMount::getMountPath, VolumeMount::getReadOnly)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("volume", "/citadel/volume", true),
                        org.assertj.core.groups.Tuple.tuple("control", "/citadel/control", false));
    }

    private static long bytes(Quantity q) {
        return Quantity.getAmountInBytes(q).longValueExact();
    }

    @Test
    void aNetworkPolicySelectsTheRunsPodAndAllowsNothingEitherWay() throws IOException {
        sandbox.createVolume("run-8", 1L << 30);
        sandbox.start("run-8", spec(), Sandbox.OutputSink.DISCARD);

        NetworkPolicy policy = client.network().v1().networkPolicies().inNamespace(NS).withName("run-8").get();
        assertThat(policy.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "citadel").containsEntry("citadel.dev/run",
                "run-8");
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(Map.of("citadel.dev/run", "run-8"));
        assertThat(policy.getSpec().getPodSelector().getMatchExpressions()).isNullOrEmpty();
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
        assertThat(policy.getSpec().getIngress()).isNullOrEmpty();
        assertThat(policy.getSpec().getEgress()).isNullOrEmpty();
    }

    @Test
    void aVolumeHoldingMoreThanItsSizeIsRefusedBeforeAnythingIsCreated() throws IOException {
        Path volume = sandbox.createVolume("run-9", 1000);
        Files.write(volume.resolve("big"), new byte[1001]);

        assertThatThrownBy(() -> sandbox.start("run-9", spec(), Sandbox.OutputSink.DISCARD)).isInstanceOf(SandboxException.class)
                .hasMessage("the volume holds more than its size");
        assertThat(job("run-9")).isNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName("run-9").get()).isNull();
    }

    @Test
    void aRunWithoutAVolumeIsRefused() {
        assertThatThrownBy(() -> sandbox.start("run-10", spec(), Sandbox.OutputSink.DISCARD)).isInstanceOf(SandboxException.class)
                .hasMessage("run run-10 has no volume");
    }

    @Test
    void presentListsJobsPoliciesAndVolumesIncludingThoseOfAnEarlierProcess() throws IOException {
        sandbox.createVolume("run-11", 1L << 30);
        sandbox.start("run-11", spec(), Sandbox.OutputSink.DISCARD);
        sandbox.createVolume("run-12", 1L << 30);
        client.batch().v1().jobs().inNamespace(NS).resource(new JobBuilder().withNewMetadata().withName("left-behind")
                .withLabels(Map.of("app.kubernetes.io/managed-by", "citadel", "citadel.dev/run", "left-behind")).endMetadata()
                .withNewSpec().withNewTemplate().endTemplate().endSpec().build()).create();
        client.batch().v1().jobs().inNamespace(NS).resource(new JobBuilder().withNewMetadata().withName("not-ours").endMetadata()
                .withNewSpec().withNewTemplate().endTemplate().endSpec().build()).create();

        assertThat(sandbox.present()).containsExactly("left-behind", "run-11", "run-12");
    }

    @Test
    void removeDeletesTheJobItsPodsThePolicyAndTheVolumeAndMayBeRepeated() throws IOException {
        Path volume = sandbox.createVolume("run-13", 1L << 30);
        Sandbox.OutputSink sink = Sandbox.OutputSink.DISCARD;
        Execution execution = sandbox.start("run-13", spec(), sink);
        createPod("run-13");

        sandbox.remove("run-13");

        assertThat(job("run-13")).isNull();
        assertThat(client.pods().inNamespace(NS).withLabel("citadel.dev/run", "run-13").list().getItems()).isEmpty();
        assertThat(client.network().v1().networkPolicies().inNamespace(NS).withName("run-13").get()).isNull();
        assertThat(volume.getParent()).doesNotExist();
        assertThat(sandbox.present()).doesNotContain("run-13");
        assertThat(execution.exit()).isDone();
        sandbox.remove("run-13");
    }

    // --- exits, driven by the pod status a kubelet would write ---

    private String createPod(String id) {
        Job job = job(id);
        Pod pod = new PodBuilder().withNewMetadata().withName(id + "-x7k2p").withNamespace(NS)
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec()).build();
        client.pods().inNamespace(NS).resource(pod).create();
        return pod.getMetadata().getName();
    }

    private void status(String pod, UnaryOperator<PodStatusBuilder> status) {
        Pod current = client.pods().inNamespace(NS).withName(pod).get();
        Pod updated = new PodBuilder(current).withStatus(status.apply(new PodStatusBuilder().withPhase("Running")).build()).build();
        client.pods().inNamespace(NS).resource(updated).updateStatus();
    }

    private static ContainerStatus running(String name) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewRunning().withStartedAt("2026-01-01T00:00:00Z").endRunning()
                .endState().build();
    }

    private static ContainerStatus terminated(String name, int code) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewTerminated().withExitCode(code)
                .withFinishedAt("2026-01-01T00:10:00Z").endTerminated().endState().build();
    }

    private static ContainerStatus waiting(String name, String reason, String message) {
        return new ContainerStatusBuilder().withName(name).withNewState().withNewWaiting().withReason(reason).withMessage(message).endWaiting()
                .endState().build();
    }

    private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never happened: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static Execution.Exit exitOf(Execution execution) throws Exception {
        return execution.exit().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aRunIsStagedRunsAndIsCollectedAndItsExitCodeIsTheMainContainers() throws Exception {
        Path volume = sandbox.createVolume("run-20", 1L << 30);
        Files.createDirectories(volume.resolve("input/config"));
        Files.writeString(volume.resolve("input/config/hyperparameters.json"), "{}");
        Files.createDirectories(volume.resolve("input/data/train"));
        Files.writeString(volume.resolve("input/data/train/part-0"), "1,2,3");
        Execution execution = sandbox.start("run-20", spec(Optional.empty(), List.of("train"),
                List.of(new ContainerSpec.Mount(volume.resolve("input/data"), "/opt/ml/input/data", true)), Duration.ofHours(1)),
                Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-20");

        status(pod, s -> s.withPhase("Pending").withInitContainerStatuses(running("stage")));
        eventually("staged", () -> transfer.calls.contains("touch " + pod + " stage /citadel/control/staged"));
        assertThat(transfer.calls).containsExactly(
                "upload " + pod + " stage " + volume + " except [input/data] -> /citadel/volume",
                "upload " + pod + " stage " + volume.resolve("input/data") + " except [] -> /citadel/mounts/0",
                "touch " + pod + " stage /citadel/control/staged");
        assertThat(execution.exit()).isNotDone();

        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));
        Thread.sleep(200);
        assertThat(execution.exit()).isNotDone();
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(terminated("main", 3), running("collect")));

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.code()).isEqualTo(3);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.EXITED);
        assertThat(exit.at()).isEqualTo(Instant.parse("2026-01-01T00:10:00Z"));
        assertThat(exit.detail()).isEmpty();
        assertThat(transfer.calls).endsWith("download " + pod + " collect /citadel/volume max " + (1L << 30),
                "touch " + pod + " collect /citadel/control/collected");
        // The collected volume replaced the local one; the read-only input stayed as it was.
        assertThat(volume.resolve("model/model.bin")).hasContent("weights");
        assertThat(volume.resolve("input/config")).doesNotExist();
        assertThat(volume.resolve("input/data/train/part-0")).hasContent("1,2,3");
        assertThat(volume.resolveSibling("collected")).doesNotExist();
        eventually("job deleted", () -> job("run-20") == null);
    }

    // --- serving: connect(port) through the API server's port forwarding ---

    /** A frame of the port-forward protocol (v4.channel.k8s.io): the channel's byte, then the payload. */
    private static io.fabric8.mockwebserver.internal.WebSocketMessage frame(int channel, byte[] payload) {
        byte[] b = new byte[payload.length + 1];
        b[0] = (byte) channel;
        System.arraycopy(payload, 0, b, 1, payload.length);
        return new io.fabric8.mockwebserver.internal.WebSocketMessage(b, false);
    }

    @Test
    void aRunningContainersPortIsReachedThroughThePodsPortForwardAndNotBeforeOrAfter() throws Exception {
        sandbox.createVolume("run-24", 1L << 30);
        Execution execution = sandbox.start("run-24", spec(Optional.empty(), List.of("serve"), List.of(), Duration.ofHours(1)),
                Sandbox.OutputSink.DISCARD);
        assertThatThrownBy(() -> execution.connect(8080)).isInstanceOf(SandboxException.class).hasMessage("the container is not running yet");
        String pod = createPod("run-24");
        byte[] port = {(byte) 0x90, 0x1f}; // 8080, little-endian, as the API server announces it on both channels
        byte[] response = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong".getBytes(StandardCharsets.US_ASCII);
        server.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods/" + pod + "/portforward?ports=8080").andUpgradeToWebSocket()
                .open().waitFor(10).andEmit(frame(0, port)).waitFor(10).andEmit(frame(1, port))
                // The request arrives as one data frame (channel 0); the mock answers only what it expects.
                .expect("\0GET /ping HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n").andEmit(frame(0, response)).once()
                .done().once();
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));
        Thread.sleep(300); // the run's thread polls every 50 ms

        try (ContainerHttp http = new ContainerHttp(execution, 8080, 2)) {
            ContainerHttp.Response r = http.exchange(new ContainerHttp.Request("GET", "/ping", Map.of(), null), Duration.ofSeconds(10), 100);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).asString().isEqualTo("pong");
        }

        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(terminated("main", 0), running("collect")));
        exitOf(execution);
        assertThatThrownBy(() -> execution.connect(8080)).isInstanceOf(SandboxException.class).hasMessage("the container has ended");
    }

    @Test
    void theJobsDeadlineEndsTheRunWithTimeLimit() throws Exception {
        sandbox.createVolume("run-21", 1L << 30);
        Execution execution = sandbox.start("run-21", spec(), Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-21");
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));
        Thread.sleep(200);

        Job job = job("run-21");
        client.batch().v1().jobs().inNamespace(NS).resource(new JobBuilder(job).withNewStatus().withConditions(new JobConditionBuilder()
                .withType("Failed").withStatus("True").withReason("DeadlineExceeded").build()).endStatus().build()).updateStatus();
        client.pods().inNamespace(NS).withName(pod).delete();

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.TIME_LIMIT);
        assertThat(exit.code()).isEqualTo(137);
    }

    @Test
    void theTimeLimitCountsFromTheMainContainersStartAndDeletesThePodWithTheGrace() throws Exception {
        sandbox.createVolume("run-22", 1L << 30);
        Execution execution = sandbox.start("run-22", spec(Optional.empty(), List.of(), List.of(), Duration.ofMillis(300)),
                Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-22");
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.TIME_LIMIT);
        assertThat(deleteOptionsOf("/api/v1/namespaces/" + NS + "/pods/" + pod)).contains("\"gracePeriodSeconds\":30");
    }

    @Test
    void stopDeletesThePodWithTheGivenGraceAndEndsTheRunStopped() throws Exception {
        sandbox.createVolume("run-23", 1L << 30);
        Execution execution = sandbox.start("run-23", spec(), Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-23");
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));
        Thread.sleep(200);

        execution.stop(Duration.ofSeconds(7));

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.STOPPED);
        assertThat(exit.code()).isEqualTo(137);
        assertThat(deleteOptionsOf("/api/v1/namespaces/" + NS + "/pods/" + pod)).contains("\"gracePeriodSeconds\":7");
    }

    @Test
    void stopBeforeThePodExistsEndsTheRunStoppedAndDeletesTheJob() throws Exception {
        sandbox.createVolume("run-24", 1L << 30);
        Execution execution = sandbox.start("run-24", spec(), Sandbox.OutputSink.DISCARD);

        execution.stop(Duration.ofSeconds(7));

        assertThat(exitOf(execution).reason()).isEqualTo(Execution.Reason.STOPPED);
        eventually("job deleted", () -> job("run-24") == null);
    }

    @Test
    void anImageThatCannotBePulledIsLostWithADetailFreeOfTheRegistrysMessage() throws Exception {
        sandbox.createVolume("run-25", 1L << 30);
        Execution execution = sandbox.start("run-25", spec(), Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-25");
        status(pod, s -> s.withPhase("Pending").withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(
                waiting("main", "ImagePullBackOff", "Back-off pulling image \"registry.internal:5000/x\": 401 token=secret"), running("collect")));

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.LOST);
        assertThat(exit.code()).isEqualTo(-1);
        assertThat(exit.detail()).isEqualTo("the image could not be pulled (ImagePullBackOff)");
        eventually("job deleted", () -> job("run-25") == null);
    }

    @Test
    void aFailedUploadEndsTheRunLostAndDeletesTheJob() throws Exception {
        sandbox.createVolume("run-27", 1L << 30);
        transfer.failUploads = true;
        Execution execution = sandbox.start("run-27", spec(), Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-27");

        status(pod, s -> s.withPhase("Pending").withInitContainerStatuses(running("stage")));

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.LOST);
        assertThat(exit.detail()).isEqualTo("the volume could not be staged");
        eventually("job deleted", () -> job("run-27") == null);
    }

    @Test
    void aPodThatVanishesUnaskedIsLost() throws Exception {
        sandbox.createVolume("run-26", 1L << 30);
        Execution execution = sandbox.start("run-26", spec(), Sandbox.OutputSink.DISCARD);
        String pod = createPod("run-26");
        status(pod, s -> s.withInitContainerStatuses(terminated("stage", 0)).withContainerStatuses(running("main"), running("collect")));
        Thread.sleep(200);

        client.pods().inNamespace(NS).withName(pod).delete();

        Execution.Exit exit = exitOf(execution);
        assertThat(exit.reason()).isEqualTo(Execution.Reason.LOST);
        assertThat(exit.detail()).isEqualTo("the pod disappeared (deleted, or its node was lost)");
    }

    @Test
    void anEvictionForDiskUseIsLostAndSaysSo() {
        Pod pod = new PodBuilder().withNewStatus().withPhase("Failed").withReason("Evicted")
                .withMessage("Usage of EmptyDir volume \"volume\" exceeds the limit \"1Gi\". ").endStatus().build();

        Optional<Execution.Exit> exit = KubernetesSandbox.exitOf(pod, null, new KubernetesSandbox.Intent(false, false), Instant.EPOCH);

        assertThat(exit).contains(new Execution.Exit(-1, Execution.Reason.LOST, Instant.EPOCH,
                "the cluster evicted the pod: it used more disk than its volume allows"));
    }

    @Test
    void aMainContainerKilledAfterAStopEndsStoppedWithItsCode() {
        Pod pod = new PodBuilder().withNewStatus().withPhase("Running").withContainerStatuses(terminated("main", 143)).endStatus().build();

        assertThat(KubernetesSandbox.exitOf(pod, null, new KubernetesSandbox.Intent(true, false), Instant.EPOCH))
                .map(e -> e.code() + " " + e.reason()).contains("143 STOPPED");
    }

    /** The body of the last DELETE of {@code path} the mock server saw. */
    private String deleteOptionsOf(String path) throws InterruptedException {
        String body = null;
        for (int i = server.getRequestCount(); i > 0; i--) {
            RecordedRequest request = server.takeRequest(1, TimeUnit.SECONDS);
            if (request == null) {
                break;
            }
            if ("DELETE".equals(request.getMethod()) && request.getPath().startsWith(path)) {
                body = request.getBody().readUtf8();
            }
        }
        return body;
    }

    // --- output ---

    @Test
    void outputLinesReachTheSinkUpToTheLimitThenTruncatedOnce() throws IOException {
        List<String> lines = new ArrayList<>();
        int[] truncated = {0};
        Sandbox.OutputSink sink = new Sandbox.OutputSink() {
            @Override
            public void line(Instant at, String line) {
                lines.add(line);
            }

            @Override
            public void truncated() {
                truncated[0]++;
            }
        };

        KubernetesSandbox.pump(new ByteArrayInputStream("one\ntwo\nthree\nfour\n".getBytes(StandardCharsets.UTF_8)), sink, 11,
                Clock.systemUTC());

        assertThat(lines).containsExactly("one", "two", "thr");
        assertThat(truncated[0]).isOne();
    }

    @Test
    void outputWithinTheLimitArrivesWholeWithItsLastUnterminatedLine() throws IOException {
        List<String> lines = new ArrayList<>();
        KubernetesSandbox.pump(new ByteArrayInputStream("a\nb".getBytes(StandardCharsets.UTF_8)), (at, line) -> lines.add(line), 100,
                Clock.systemUTC());
        assertThat(lines).containsExactly("a", "b");
    }

    // --- the archive a container's volume comes back as ---

    private static TarArchiveInputStream tar(TarArchiveEntry... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(bytes)) {
            for (TarArchiveEntry e : entries) {
                out.putArchiveEntry(e);
                if (e.isFile()) {
                    out.write(new byte[(int) e.getSize()]);
                }
                out.closeArchiveEntry();
            }
        }
        return new TarArchiveInputStream(new ByteArrayInputStream(bytes.toByteArray()));
    }

    private static TarArchiveEntry file(String name, int size) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        return e;
    }

    @Test
    void aCollectedArchiveKeepsFilesAndDirectoriesAndDropsLinks() throws IOException {
        Path target = Files.createDirectory(root.resolve("collected"));
        TarArchiveEntry link = new TarArchiveEntry("model/passwd", TarArchiveEntry.LF_SYMLINK);
        link.setLinkName("/etc/passwd");

        ExecPodTransfer.extract(tar(new TarArchiveEntry("./"), new TarArchiveEntry("model/"), file("model/model.bin", 5), link), target, 100);

        assertThat(target.resolve("model/model.bin")).hasSize(5);
        assertThat(target.resolve("model/passwd")).doesNotExist();
    }

    @Test
    void aCollectedArchiveNamingAPathOutsideTheVolumeIsRefused() throws IOException {
        Path target = Files.createDirectory(root.resolve("collected"));

        assertThatThrownBy(() -> ExecPodTransfer.extract(tar(file("../escape", 1)), target, 100)).isInstanceOf(IOException.class)
                .hasMessage("the archive names a path outside the volume");
        assertThat(root.resolve("escape")).doesNotExist();
    }

    @Test
    void aCollectedArchiveLargerThanTheVolumeIsRefused() throws IOException {
        Path target = Files.createDirectory(root.resolve("collected"));

        assertThatThrownBy(() -> ExecPodTransfer.extract(tar(file("a", 60), file("b", 60)), target, 100)).isInstanceOf(IOException.class)
                .hasMessage("the volume holds more than its size");
    }

    @Test
    void aDownloadReadsTheCollectorsTarStreamOverExec() throws Exception {
        ByteArrayOutputStream archive = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(archive)) {
            out.putArchiveEntry(new TarArchiveEntry("./model/"));
            out.closeArchiveEntry();
            TarArchiveEntry model = file("./model/model.bin", 7);
            out.putArchiveEntry(model);
            out.write("weights".getBytes(StandardCharsets.US_ASCII));
            out.closeArchiveEntry();
        }
        // A tar of ASCII names and contents is ASCII (and NULs): it travels as the mock's text frame unchanged.
        server.expect().get().withPath("/api/v1/namespaces/" + NS + "/pods/run-30-x7k2p/exec?command=tar&command=-C&command=%2Fcitadel%2Fvolume"
                + "&command=-cf&command=-&command=.&container=collect&stdout=true&stderr=true")
                .andUpgradeToWebSocket().open(new io.fabric8.kubernetes.client.server.mock.OutputStreamMessage(
                        archive.toString(StandardCharsets.US_ASCII)), new io.fabric8.kubernetes.client.server.mock.StatusStreamMessage(0))
                .done().always();
        client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("run-30-x7k2p").endMetadata()
                .withNewSpec().addNewContainer().withName("collect").withImage("busybox").endContainer().endSpec()
                .withNewStatus().withPhase("Running").addNewCondition().withType("Ready").withStatus("True").endCondition()
                .withContainerStatuses(new ContainerStatusBuilder(running("collect")).withReady(true).build()).endStatus().build()).create();
        Path target = root.resolve("collected");

        new ExecPodTransfer(client, NS, Duration.ofSeconds(20)).download("run-30-x7k2p", "collect", "/citadel/volume", target, 1000);

        assertThat(target.resolve("model/model.bin")).hasContent("weights");
    }

    /** Records what the sandbox asked to move; a download brings back a model. */
    private static final class RecordingTransfer implements PodTransfer {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failUploads;

        @Override
        public void upload(String pod, String container, Path local, Set<Path> excluded, String remoteDir) throws IOException {
            if (failUploads) {
                throw new IOException("tar -x exited with 1");
            }
            calls.add("upload " + pod + " " + container + " " + local + " except " + excluded + " -> " + remoteDir);
        }

        @Override
        public void download(String pod, String container, String remoteDir, Path local, long maxBytes) throws IOException {
            calls.add("download " + pod + " " + container + " " + remoteDir + " max " + maxBytes);
            Files.createDirectories(local.resolve("model"));
            Files.writeString(local.resolve("model/model.bin"), "weights");
            Files.createDirectories(local.resolve("input/data"));
        }

        @Override
        public void touch(String pod, String container, String remotePath) {
            calls.add("touch " + pod + " " + container + " " + remotePath);
        }
    }
}
