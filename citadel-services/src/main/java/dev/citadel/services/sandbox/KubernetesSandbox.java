package dev.citadel.services.sandbox;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SeccompProfileBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.LogWatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each container as a Kubernetes Job (DESIGN.md §6, "kubernetes"; docs/KUBERNETES.md says
 * what an operator must provide). For run {@code id}, in the configured namespace:
 *
 * <ul>
 *   <li>a {@code NetworkPolicy} named {@code id}, selecting the run's pod, with policy types
 *       Ingress and Egress and no rules: nothing in or out (where the CNI enforces policies);
 *   <li>a {@code Job} named {@code id} ({@code backoffLimit} 0, an {@code activeDeadlineSeconds}
 *       backstop), both labelled {@code app.kubernetes.io/managed-by=citadel} and
 *       {@code citadel.dev/run=id}, whose pod has no service-account token, no service links, no
 *       host namespaces, an optional runtime class (gVisor), runs as the configured non-root uid
 *       with RuntimeDefault seccomp, and three containers, each with a read-only root, no
 *       privilege escalation and every capability dropped:
 *       <ul>
 *         <li>{@code stage} (init, the stager image): waits until Citadel has streamed the local
 *             volume (and each mount) into the pod's emptyDirs over {@code pods/exec} and created the
 *             marker {@code /citadel/control/staged}; it gives up after the transfer timeout;
 *         <li>{@code main}: the image by digest, {@code command} = entrypoint and {@code args} =
 *             arguments (Kubernetes replaces ENTRYPOINT and CMD as docker does), the environment,
 *             CPU and memory requests equal to limits, the volume at {@code volumePath}, each mount
 *             as its own emptyDir at its destination, a memory-backed {@code /tmp};
 *         <li>{@code collect} (the stager image): ignores SIGTERM and sleeps until the marker
 *             {@code /citadel/control/collected}, so that once {@code main} has ended Citadel can
 *             read the volume back over {@code pods/exec}, even while the pod is being deleted.
 *       </ul>
 * </ul>
 *
 * <p>One virtual thread per run polls the pod: it stages when {@code stage} runs, streams
 * {@code main}'s log to the sink, enforces the time limit from {@code main}'s start (deleting the
 * pod with the grace period, which is SIGTERM then SIGKILL), and when {@code main} has terminated
 * copies the volume back into the local volume directory, replacing its contents (read-only
 * mounts excepted), and deletes the Job. The process limit of the spec cannot be set per pod: the
 * kubelet's {@code podPidsLimit} governs it. The volume's size is the emptyDir's
 * {@code sizeLimit}, which the kubelet enforces by evicting the pod (the run ends LOST) rather
 * than with ENOSPC; locally, {@link #start} refuses a volume holding more than its size, and the
 * copy back stops at it.
 */
public final class KubernetesSandbox implements Sandbox {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesSandbox.class);

    /** The label every object Citadel creates carries, with the value {@value #MANAGER}. */
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGER = "citadel";
    /** The label naming the run an object belongs to. */
    public static final String RUN = "citadel.dev/run";

    static final String STAGE = "stage";
    static final String MAIN = "main";
    static final String COLLECT = "collect";
    static final String HELPER_VOLUME = "/citadel/volume";
    static final String HELPER_MOUNTS = "/citadel/mounts/";
    static final String CONTROL = "/citadel/control";
    static final String STAGED = CONTROL + "/staged";
    static final String COLLECTED = CONTROL + "/collected";
    /** The exit code of a LOST run: no process exit was observed. */
    static final int NO_EXIT_CODE = -1;
    private static final int KILLED = 128 + 9;
    private static final long TMP_BYTES = 256L << 20;
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern K8S_REASON = Pattern.compile("[A-Za-z]{1,64}");
    private static final Set<String> PULL_FAILURES = Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
            "RegistryUnavailable", "ImageInspectError");
    private static final Set<String> CREATE_FAILURES = Set.of("CreateContainerConfigError", "CreateContainerError", "RunContainerError",
            "PreCreateHookError", "PreStartHookError");

    /**
     * Where and as whom runs go.
     *
     * @param namespace        the namespace of every Job, pod and NetworkPolicy (Citadel's alone)
     * @param serviceAccount   the pods' service account (its token is never mounted)
     * @param runAsUser        the uid (and gid, fsGroup) of every container; not 0
     * @param runtimeClassName the pods' runtime class, e.g. {@code gvisor}
     * @param imagePullSecret  the secret of type {@code kubernetes.io/dockerconfigjson} that lets the
     *                         kubelet pull from Citadel's registry
     * @param stagerImage      the image of the {@code stage} and {@code collect} containers: needs
     *                         {@code sh}, {@code tar}, {@code touch}, {@code sleep} (busybox); pin it by digest
     * @param localRoot        where the local volume directories are ({@code <localRoot>/<id>/volume})
     */
    public record Settings(String namespace, String serviceAccount, long runAsUser, Optional<String> runtimeClassName,
            Optional<String> imagePullSecret, String stagerImage, Path localRoot) {
        public Settings {
            requireNonNull(namespace, "namespace is null");
            requireNonNull(serviceAccount, "serviceAccount is null");
            requireNonNull(runtimeClassName, "runtimeClassName is null");
            requireNonNull(imagePullSecret, "imagePullSecret is null");
            requireNonNull(stagerImage, "stagerImage is null");
            requireNonNull(localRoot, "localRoot is null");
            if (!DNS_LABEL.matcher(namespace).matches()) {
                throw new IllegalArgumentException("namespace must be a DNS label");
            }
            if (serviceAccount.isBlank() || stagerImage.isBlank()) {
                throw new IllegalArgumentException("serviceAccount and stagerImage must not be blank");
            }
            if (runAsUser <= 0 || runAsUser > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("runAsUser must be a non-root uid");
            }
            if (!localRoot.isAbsolute()) {
                throw new IllegalArgumentException("localRoot must be absolute");
            }
        }

        /** Service account {@code default}, uid 1000, no runtime class, no pull secret, {@code busybox:1.37}. */
        public static Settings defaults(String namespace, Path localRoot) {
            return new Settings(namespace, "default", 1000, Optional.empty(), Optional.empty(), "busybox:1.37", localRoot);
        }
    }

    /**
     * @param poll     how often a run's pod is looked at
     * @param schedule how long a pod may wait to be created and scheduled before the run is LOST
     * @param transfer how long staging (and each copy) may take
     */
    record Timing(Duration poll, Duration schedule, Duration transfer) {
        static final Timing DEFAULT = new Timing(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofMinutes(30));
    }

    private final KubernetesClient client;
    private final Settings settings;
    private final PodTransfer transfer;
    private final Timing timing;
    private final Clock clock;
    private final Map<String, Run> runs = new ConcurrentHashMap<>();

    public KubernetesSandbox(KubernetesClient client, Settings settings) {
        this(client, settings, new ExecPodTransfer(client, settings.namespace(), Timing.DEFAULT.transfer()), Timing.DEFAULT,
                Clock.systemUTC());
    }

    KubernetesSandbox(KubernetesClient client, Settings settings, PodTransfer transfer, Timing timing, Clock clock) {
        this.client = requireNonNull(client, "client is null");
        this.settings = requireNonNull(settings, "settings is null");
        this.transfer = requireNonNull(transfer, "transfer is null");
        this.timing = requireNonNull(timing, "timing is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /**
     * {@inheritDoc}
     *
     * <p>On a cluster the key is not used: the pod's volume is an {@code emptyDir} on the node,
     * encrypted only if the node's disk is (docs/KUBERNETES.md), and the staging copy here lives
     * in Citadel's data directory for the length of the run.
     */
    @Override
    public Path createVolume(String id, long sizeBytes, byte[] key) throws IOException {
        checkId(id);
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("sizeBytes must be positive");
        }
        Files.createDirectories(settings.localRoot());
        Path dir = settings.localRoot().resolve(id);
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(dir.resolve("size"), Long.toString(sizeBytes), StandardCharsets.US_ASCII);
        return Files.createDirectory(dir.resolve("volume"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    @Override
    public Execution start(String id, ContainerSpec spec, OutputSink output) throws IOException {
        checkId(id);
        requireNonNull(spec, "spec is null");
        requireNonNull(output, "output is null");
        Path dir = settings.localRoot().resolve(id);
        Path volume = dir.resolve("volume");
        if (!Files.isDirectory(volume, LinkOption.NOFOLLOW_LINKS)) {
            throw new SandboxException("run " + id + " has no volume");
        }
        if (runs.containsKey(id)) {
            throw new SandboxException("run " + id + " has already started");
        }
        long size = Long.parseLong(Files.readString(dir.resolve("size"), StandardCharsets.US_ASCII).strip());
        List<StagedMount> mounts = plan(spec, volume, size);
        Set<Path> excluded = insideVolume(mounts);
        if (ExecPodTransfer.treeBytes(volume, excluded) > size) {
            throw new SandboxException("the volume holds more than its size");
        }
        NetworkPolicy policy = networkPolicy(id);
        Job job = job(id, spec, size, mounts);
        try {
            client.network().v1().networkPolicies().inNamespace(settings.namespace()).resource(policy).create();
            client.batch().v1().jobs().inNamespace(settings.namespace()).resource(job).create();
        } catch (KubernetesClientException e) {
            deleteQuietly(id);
            throw new SandboxException(e.getCode() == 409 ? "a run " + id + " is present on the cluster"
                    : "the cluster refused the run (HTTP " + e.getCode() + ")", e);
        }
        Run run = new Run(id, spec, output, volume, size, mounts);
        runs.put(id, run);
        Thread.ofVirtual().name("kubernetes-run-" + id).start(run::supervise);
        return run;
    }

    @Override
    public Set<String> present() throws IOException {
        Set<String> ids = new TreeSet<>();
        try {
            for (Job job : client.batch().v1().jobs().inNamespace(settings.namespace()).withLabel(MANAGED_BY, MANAGER).list().getItems()) {
                runLabel(job).ifPresent(ids::add);
            }
            for (NetworkPolicy policy : client.network().v1().networkPolicies().inNamespace(settings.namespace()).withLabel(MANAGED_BY, MANAGER)
                    .list().getItems()) {
                runLabel(policy).ifPresent(ids::add);
            }
        } catch (KubernetesClientException e) {
            throw new IOException("listing the cluster's runs failed (HTTP " + e.getCode() + ")", e);
        }
        if (Files.isDirectory(settings.localRoot())) {
            try (Stream<Path> dirs = Files.list(settings.localRoot())) {
                dirs.map(p -> p.getFileName().toString()).filter(n -> ID.matcher(n).matches()).forEach(ids::add);
            }
        }
        return ids;
    }

    @Override
    public void remove(String id) throws IOException {
        checkId(id);
        Run run = runs.remove(id);
        if (run != null) {
            run.removed();
        }
        try {
            client.batch().v1().jobs().inNamespace(settings.namespace()).withName(id).withPropagationPolicy(DeletionPropagation.BACKGROUND)
                    .delete();
            client.pods().inNamespace(settings.namespace()).withLabel(RUN, id).withGracePeriod(0).delete();
            client.network().v1().networkPolicies().inNamespace(settings.namespace()).withName(id).delete();
        } catch (KubernetesClientException e) {
            throw new IOException("removing run " + id + " from the cluster failed (HTTP " + e.getCode() + ")", e);
        }
        deleteTree(settings.localRoot().resolve(id));
    }

    @Override
    public void close() {
        runs.values().forEach(Run::removed);
    }

    /** A mount: staged into emptyDir {@code mount-<index>} from {@code source}. */
    record StagedMount(int index, Path source, String destination, boolean readOnly, Optional<Path> insideVolume, long sizeLimit) {
        String volumeName() {
            return "mount-" + index;
        }

        String helperPath() {
            return HELPER_MOUNTS + index;
        }
    }

    private static List<StagedMount> plan(ContainerSpec spec, Path volume, long volumeSize) throws IOException {
        List<StagedMount> planned = new ArrayList<>();
        for (ContainerSpec.Mount mount : spec.mounts()) {
            Path source = mount.source().toAbsolutePath().normalize();
            if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new SandboxException("mount " + mount.destination() + " has no source directory");
            }
            Optional<Path> inside = source.startsWith(volume) && !source.equals(volume) ? Optional.of(volume.relativize(source)) : Optional.empty();
            long limit = mount.readOnly() ? diskUse(source) : volumeSize;
            planned.add(new StagedMount(planned.size(), source, mount.destination(), mount.readOnly(), inside, limit));
        }
        return List.copyOf(planned);
    }

    private static Set<Path> insideVolume(List<StagedMount> mounts) {
        Set<Path> inside = new HashSet<>();
        mounts.forEach(m -> m.insideVolume().ifPresent(inside::add));
        return inside;
    }

    /** What a tree takes on a disk of 4 KiB blocks (emptyDir limits count blocks, as du does), with room to spare. */
    private static long diskUse(Path root) throws IOException {
        long blocks = 16;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                blocks += 1 + (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? (Files.size(p) + 4095) / 4096 : 0);
            }
        }
        return blocks * 4096;
    }

    NetworkPolicy networkPolicy(String id) {
        return new NetworkPolicyBuilder().withNewMetadata().withName(id).withNamespace(settings.namespace()).withLabels(labels(id)).endMetadata()
                .withNewSpec().withNewPodSelector().withMatchLabels(Map.of(RUN, id)).endPodSelector().withPolicyTypes("Ingress", "Egress")
                .endSpec().build();
    }

    Job job(String id, ContainerSpec spec, long volumeSize, List<StagedMount> mounts) {
        long grace = seconds(spec.grace());
        long deadline = seconds(spec.timeLimit()) + grace + 2 * seconds(timing.transfer());
        PodSpec pod = podSpec(spec, volumeSize, mounts, grace);
        return new JobBuilder().withNewMetadata().withName(id).withNamespace(settings.namespace()).withLabels(labels(id)).endMetadata()
                .withNewSpec().withBackoffLimit(0).withActiveDeadlineSeconds(deadline)
                .withNewTemplate().withNewMetadata().withLabels(labels(id)).endMetadata().withSpec(pod).endTemplate()
                .endSpec().build();
    }

    private PodSpec podSpec(ContainerSpec spec, long volumeSize, List<StagedMount> mounts, long grace) {
        List<VolumeMount> mainMounts = new ArrayList<>();
        mainMounts.add(mount("volume", spec.volumePath(), false));
        mainMounts.add(mount("tmp", "/tmp", false));
        List<VolumeMount> stageMounts = new ArrayList<>(List.of(mount("volume", HELPER_VOLUME, false), mount("control", CONTROL, false)));
        List<VolumeMount> collectMounts = new ArrayList<>(List.of(mount("volume", HELPER_VOLUME, true), mount("control", CONTROL, false)));
        List<Volume> volumes = new ArrayList<>();
        volumes.add(emptyDir("volume", volumeSize, false));
        volumes.add(emptyDir("tmp", TMP_BYTES, true));
        volumes.add(emptyDir("control", 1L << 20, true));
        for (StagedMount m : mounts) {
            volumes.add(emptyDir(m.volumeName(), m.sizeLimit(), false));
            mainMounts.add(mount(m.volumeName(), m.destination(), m.readOnly()));
            stageMounts.add(mount(m.volumeName(), m.helperPath(), false));
            if (!m.readOnly()) {
                collectMounts.add(mount(m.volumeName(), m.helperPath(), true));
            }
        }
        Map<String, Quantity> mainResources = Map.of("cpu", new Quantity(Math.max(1, Math.round(spec.limits().cpus() * 1000)) + "m"),
                "memory", new Quantity(Long.toString(spec.limits().memoryBytes())));
        ContainerBuilder main = new ContainerBuilder().withName(MAIN).withImage(spec.image().reference()).withImagePullPolicy("IfNotPresent")
                .withEnv(spec.environment().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .map(e -> new EnvVar(e.getKey(), e.getValue(), null)).toList())
                .withResources(resources(mainResources)).withSecurityContext(hardened()).withVolumeMounts(mainMounts)
                .withTerminationMessagePolicy("File");
        spec.entrypoint().ifPresent(main::withCommand);
        if (!spec.arguments().isEmpty()) {
            main.withArgs(spec.arguments());
        }
        Map<String, Quantity> helperResources = Map.of("cpu", new Quantity("100m"), "memory", new Quantity("64Mi"));
        Container stage = new ContainerBuilder().withName(STAGE).withImage(settings.stagerImage()).withImagePullPolicy("IfNotPresent")
                .withCommand("sh", "-c", "i=0; while [ ! -e " + STAGED + " ]; do i=$((i+1)); [ $i -le " + seconds(timing.transfer())
                        + " ] || exit 1; sleep 1; done")
                .withResources(resources(helperResources)).withSecurityContext(hardened()).withVolumeMounts(stageMounts).build();
        Container collect = new ContainerBuilder().withName(COLLECT).withImage(settings.stagerImage()).withImagePullPolicy("IfNotPresent")
                .withCommand("sh", "-c", "trap '' TERM; while [ ! -e " + COLLECTED + " ]; do sleep 1; done")
                .withResources(resources(helperResources)).withSecurityContext(hardened()).withVolumeMounts(collectMounts).build();
        PodSpecBuilder pod = new PodSpecBuilder().withRestartPolicy("Never").withServiceAccountName(settings.serviceAccount())
                .withAutomountServiceAccountToken(false).withEnableServiceLinks(false)
                .withHostNetwork(false).withHostPID(false).withHostIPC(false).withShareProcessNamespace(false)
                .withTerminationGracePeriodSeconds(grace)
                .withSecurityContext(new PodSecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(settings.runAsUser())
                        .withRunAsGroup(settings.runAsUser()).withFsGroup(settings.runAsUser())
                        .withSeccompProfile(new SeccompProfileBuilder().withType("RuntimeDefault").build()).build())
                .withInitContainers(stage).withContainers(main.build(), collect).withVolumes(volumes);
        settings.runtimeClassName().ifPresent(pod::withRuntimeClassName);
        settings.imagePullSecret().ifPresent(s -> pod.withImagePullSecrets(new LocalObjectReference(s)));
        return pod.build();
    }

    private SecurityContext hardened() {
        return new SecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(settings.runAsUser()).withRunAsGroup(settings.runAsUser())
                .withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false).withPrivileged(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withSeccompProfile(new SeccompProfileBuilder().withType("RuntimeDefault").build()).build();
    }

    private static ResourceRequirements resources(Map<String, Quantity> amounts) {
        return new ResourceRequirementsBuilder().withRequests(amounts).withLimits(amounts).build();
    }

    private static VolumeMount mount(String volume, String path, boolean readOnly) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(readOnly).build();
    }

    private static Volume emptyDir(String name, long bytes, boolean memory) {
        return new VolumeBuilder().withName(name).withNewEmptyDir().withMedium(memory ? "Memory" : null)
                .withSizeLimit(new Quantity(Long.toString(bytes))).endEmptyDir().build();
    }

    private static Map<String, String> labels(String id) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(MANAGED_BY, MANAGER);
        labels.put(RUN, id);
        return labels;
    }

    private static Optional<String> runLabel(HasMetadata object) {
        Map<String, String> labels = object.getMetadata().getLabels();
        return Optional.ofNullable(labels == null ? null : labels.get(RUN)).filter(v -> ID.matcher(v).matches());
    }

    private static long seconds(Duration d) {
        return Math.max(0, d.toSeconds() + (d.toNanosPart() > 0 ? 1 : 0));
    }

    private static void checkId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("bad run id");
        }
    }

    private void deleteQuietly(String id) {
        try {
            client.batch().v1().jobs().inNamespace(settings.namespace()).withName(id).withPropagationPolicy(DeletionPropagation.BACKGROUND)
                    .delete();
        } catch (KubernetesClientException e) {
            LOG.warn("deleting job {} failed: {}", id, e.getMessage());
        }
    }

    /** What Citadel did to a run, which decides the reason of its end. */
    record Intent(boolean stopped, boolean timedOut) {
    }

    /**
     * How a run ended, read from its pod (and Job): empty while it has not. {@code main}'s
     * terminated state gives the code; a stop or the time limit (Citadel's or the Job's deadline)
     * gives the reason; a pod that cannot pull or create its containers, was evicted or failed
     * otherwise is LOST, with a detail made of fixed words and Kubernetes' reason codes only.
     */
    static Optional<Execution.Exit> exitOf(Pod pod, Job job, Intent intent, Instant now) {
        Optional<ContainerStatus> main = status(pod, MAIN, false);
        Optional<ContainerStateTerminated> terminated = main.map(s -> s.getState() == null ? null : s.getState().getTerminated());
        if (terminated.isPresent()) {
            ContainerStateTerminated t = terminated.get();
            Execution.Reason reason = intent.stopped() ? Execution.Reason.STOPPED
                    : intent.timedOut() || deadlineExceeded(pod, job) ? Execution.Reason.TIME_LIMIT : Execution.Reason.EXITED;
            Instant at = t.getFinishedAt() == null ? now : parseInstant(t.getFinishedAt(), now);
            return Optional.of(new Execution.Exit(t.getExitCode() == null ? KILLED : t.getExitCode(), reason, at, ""));
        }
        for (boolean init : List.of(true, false)) {
            List<ContainerStatus> statuses = pod.getStatus() == null ? List.of()
                    : init ? nonNull(pod.getStatus().getInitContainerStatuses()) : nonNull(pod.getStatus().getContainerStatuses());
            for (ContainerStatus s : statuses) {
                String waiting = s.getState() == null || s.getState().getWaiting() == null ? null : s.getState().getWaiting().getReason();
                String whose = MAIN.equals(s.getName()) ? "the image" : "the sandbox's helper image";
                if (waiting != null && PULL_FAILURES.contains(waiting)) {
                    return Optional.of(lost(whose + " could not be pulled (" + waiting + ")", now));
                }
                if (waiting != null && CREATE_FAILURES.contains(waiting)) {
                    return Optional.of(lost("the container could not be created (" + waiting + ")", now));
                }
            }
        }
        Optional<ContainerStateTerminated> stage = status(pod, STAGE, true)
                .map(s -> s.getState() == null ? null : s.getState().getTerminated());
        if (stage.isPresent() && !Integer.valueOf(0).equals(stage.get().getExitCode()) && !intent.stopped() && !deadlineExceeded(pod, job)) {
            return Optional.of(lost("the volume could not be staged", now));
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
            return Optional.of(ended(pod, job, intent, now));
        }
        return Optional.empty();
    }

    /** The end of a run whose pod ended or vanished without {@code main} having terminated. */
    static Execution.Exit ended(Pod pod, Job job, Intent intent, Instant now) {
        if (intent.stopped()) {
            return new Execution.Exit(KILLED, Execution.Reason.STOPPED, now, "");
        }
        if (intent.timedOut() || deadlineExceeded(pod, job)) {
            return new Execution.Exit(KILLED, Execution.Reason.TIME_LIMIT, now, "");
        }
        if (pod == null) {
            return lost("the pod disappeared (deleted, or its node was lost)", now);
        }
        String reason = pod.getStatus() == null ? null : pod.getStatus().getReason();
        if ("Evicted".equals(reason)) {
            String message = Optional.ofNullable(pod.getStatus().getMessage()).orElse("");
            boolean disk = message.contains("EmptyDir") || message.contains("ephemeral");
            return lost("the cluster evicted the pod" + (disk ? ": it used more disk than its volume allows" : ": its node ran short"), now);
        }
        return lost("the pod failed" + (reason != null && K8S_REASON.matcher(reason).matches() ? " (" + reason + ")" : ""), now);
    }

    static boolean deadlineExceeded(Pod pod, Job job) {
        if (pod != null && pod.getStatus() != null && "DeadlineExceeded".equals(pod.getStatus().getReason())) {
            return true;
        }
        if (job == null || job.getStatus() == null) {
            return false;
        }
        for (JobCondition c : nonNull(job.getStatus().getConditions())) {
            if ("DeadlineExceeded".equals(c.getReason()) && "True".equals(c.getStatus())) {
                return true;
            }
        }
        return false;
    }

    private static Execution.Exit lost(String detail, Instant now) {
        return new Execution.Exit(NO_EXIT_CODE, Execution.Reason.LOST, now, detail);
    }

    private static Optional<ContainerStatus> status(Pod pod, String container, boolean init) {
        if (pod == null || pod.getStatus() == null) {
            return Optional.empty();
        }
        List<ContainerStatus> statuses = init ? pod.getStatus().getInitContainerStatuses() : pod.getStatus().getContainerStatuses();
        return nonNull(statuses).stream().filter(s -> container.equals(s.getName())).findFirst();
    }

    private static boolean running(Pod pod, String container, boolean init) {
        return status(pod, container, init).map(s -> s.getState() != null && s.getState().getRunning() != null).orElse(false);
    }

    private static boolean unschedulable(Pod pod) {
        if (pod.getStatus() == null) {
            return false;
        }
        for (PodCondition c : nonNull(pod.getStatus().getConditions())) {
            if ("PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason())) {
                return true;
            }
        }
        return false;
    }

    private static <T> List<T> nonNull(List<T> list) {
        return list == null ? List.of() : list;
    }

    private static Instant parseInstant(String text, Instant fallback) {
        try {
            return Instant.parse(text);
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    /**
     * Sends the lines of {@code in} to {@code sink} until {@code limit} bytes (line breaks
     * included) have gone, then calls {@code truncated} once and stops reading. A line is cut at
     * the limit; invalid UTF-8 becomes U+FFFD.
     */
    static void pump(InputStream in, OutputSink sink, long limit, Clock clock) throws IOException {
        long sent = 0;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        for (int n; (n = in.read(buffer)) > 0; ) {
            for (int i = 0; i < n; i++) {
                if (buffer[i] == '\n') {
                    if (sent + line.size() + 1 > limit) {
                        finishTruncated(sink, line, limit - sent, clock);
                        return;
                    }
                    sent += line.size() + 1;
                    sink.line(clock.instant(), line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(buffer[i]);
                    if (sent + line.size() > limit) {
                        finishTruncated(sink, line, limit - sent, clock);
                        return;
                    }
                }
            }
        }
        if (line.size() > 0) {
            sink.line(clock.instant(), line.toString(StandardCharsets.UTF_8));
        }
    }

    private static void finishTruncated(OutputSink sink, ByteArrayOutputStream line, long room, Clock clock) {
        if (room > 0) {
            byte[] bytes = line.toByteArray();
            sink.line(clock.instant(), new String(bytes, 0, (int) Math.min(room, bytes.length), StandardCharsets.UTF_8));
        }
        sink.truncated();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Replaces what {@code volume} holds (but the excluded subtrees) by what {@code collected} holds. */
    static void replaceContents(Path volume, Path collected, Set<Path> excluded) throws IOException {
        try (Stream<Path> children = Files.list(volume)) {
            for (Path child : children.toList()) {
                clearExcept(volume, child, excluded);
            }
        }
        try (Stream<Path> walk = Files.walk(collected)) {
            for (Path p : walk.toList()) {
                Path relative = collected.relativize(p);
                if (relative.toString().isEmpty() || excluded.stream().anyMatch(relative::startsWith)) {
                    continue;
                }
                Path target = volume.resolve(relative);
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.move(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        deleteTree(collected);
    }

    private static void clearExcept(Path root, Path p, Set<Path> excluded) throws IOException {
        Path relative = root.relativize(p);
        if (excluded.contains(relative)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            boolean holdsExcluded = excluded.stream().anyMatch(e -> e.startsWith(relative));
            if (holdsExcluded) {
                try (Stream<Path> children = Files.list(p)) {
                    for (Path child : children.toList()) {
                        clearExcept(root, child, excluded);
                    }
                }
                return;
            }
            deleteTree(p);
        } else {
            Files.deleteIfExists(p);
        }
    }

    /** One run: its execution and the thread that follows its pod. */
    private final class Run implements Execution {
        private final String id;
        private final ContainerSpec spec;
        private final OutputSink output;
        private final Path volume;
        private final long size;
        private final List<StagedMount> mounts;
        private final CompletableFuture<Exit> exit = new CompletableFuture<>();
        private volatile Duration stopGrace;
        private volatile boolean removed;
        private volatile Thread supervisor;
        private volatile LogWatch logWatch;
        private Thread logThread;
        /** The pod once {@code main} has been seen running; what {@link #connect} forwards to. */
        private volatile String runningPod;

        Run(String id, ContainerSpec spec, OutputSink output, Path volume, long size, List<StagedMount> mounts) {
            this.id = id;
            this.spec = spec;
            this.output = output;
            this.volume = volume;
            this.size = size;
            this.mounts = mounts;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public CompletableFuture<Exit> exit() {
            return exit;
        }

        @Override
        public void stop(Duration grace) {
            requireNonNull(grace, "grace is null");
            if (stopGrace == null) {
                stopGrace = grace;
            }
        }

        /**
         * A connection to {@code port} of {@code main} through the API server's port forwarding
         * ({@code pods/portforward}, which Citadel's service account needs): the kubelet connects to
         * the port inside the pod's network namespace, so the run's deny-all NetworkPolicy does not
         * apply to it, and nothing listens on Citadel's host. One WebSocket per connection.
         */
        @Override
        public java.nio.channels.ByteChannel connect(int port) throws IOException {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("bad port");
            }
            if (removed || exit.isDone()) {
                throw new SandboxException("the container has ended");
            }
            String pod = runningPod;
            if (pod == null) {
                throw new SandboxException("the container is not running yet");
            }
            return PortForwardChannel.open(client.pods().inNamespace(settings.namespace()).withName(pod), port);
        }

        void removed() {
            removed = true;
            Thread t = supervisor;
            if (t != null) {
                t.interrupt();
            }
            exit.complete(new Exit(KILLED, Reason.STOPPED, clock.instant(), ""));
        }

        void supervise() {
            supervisor = Thread.currentThread();
            Exit end;
            try {
                end = follow();
            } catch (InterruptedException e) {
                end = new Exit(KILLED, Reason.STOPPED, clock.instant(), "");
            } catch (RuntimeException | IOException e) {
                LOG.warn("run {}: following its pod failed", id, e);
                end = lost("the sandbox lost track of the run", clock.instant());
            }
            stopLogs();
            if (!removed) {
                try {
                    client.batch().v1().jobs().inNamespace(settings.namespace()).withName(id)
                            .withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
                } catch (KubernetesClientException e) {
                    LOG.warn("run {}: deleting its job failed: {}", id, e.getMessage());
                }
            }
            exit.complete(end);
        }

        private Exit follow() throws IOException, InterruptedException {
            Instant created = clock.instant();
            String podName = null;
            boolean staged = false;
            boolean stopIssued = false;
            boolean timedOut = false;
            Instant mainStarted = null;
            while (true) {
                if (removed) {
                    throw new InterruptedException();
                }
                Instant now = clock.instant();
                Job job = client.batch().v1().jobs().inNamespace(settings.namespace()).withName(id).get();
                Pod pod = findPod(podName);
                Intent intent = new Intent(stopGrace != null, timedOut);
                if (pod == null) {
                    if (podName != null || intent.stopped() || deadlineExceeded(null, job)) {
                        return ended(null, job, intent, now);
                    }
                    if (Duration.between(created, now).compareTo(timing.schedule()) > 0) {
                        return lost("no pod was created for the run", now);
                    }
                    Thread.sleep(timing.poll());
                    continue;
                }
                podName = pod.getMetadata().getName();
                if (intent.stopped() && !stopIssued) {
                    stopIssued = true;
                    deletePod(podName, stopGrace);
                }
                Optional<Exit> end = exitOf(pod, job, intent, now);
                if (end.isPresent()) {
                    runningPod = null;
                    return collect(podName, pod, end.get());
                }
                if (!staged && running(pod, STAGE, true)) {
                    if (!stage(podName)) {
                        return lost("the volume could not be staged", now);
                    }
                    staged = true;
                }
                if (mainStarted == null && running(pod, MAIN, false)) {
                    mainStarted = now;
                    runningPod = podName;
                    startLogs(podName);
                }
                if (mainStarted != null && !timedOut && !intent.stopped()
                        && Duration.between(mainStarted, now).compareTo(spec.timeLimit()) >= 0) {
                    timedOut = true;
                    deletePod(podName, spec.grace());
                }
                if (mainStarted == null && unschedulable(pod) && Duration.between(created, now).compareTo(timing.schedule()) > 0) {
                    return lost("the cluster could not schedule the run", now);
                }
                Thread.sleep(timing.poll());
            }
        }

        private Pod findPod(String name) {
            if (name != null) {
                return client.pods().inNamespace(settings.namespace()).withName(name).get();
            }
            List<Pod> pods = client.pods().inNamespace(settings.namespace()).withLabel(RUN, id).list().getItems();
            return pods.stream().min(Comparator.comparing(p -> p.getMetadata().getName())).orElse(null);
        }

        private void deletePod(String podName, Duration grace) {
            try {
                client.pods().inNamespace(settings.namespace()).withName(podName).withGracePeriod(seconds(grace)).delete();
            } catch (KubernetesClientException e) {
                LOG.warn("run {}: deleting pod {} failed: {}", id, podName, e.getMessage());
            }
        }

        /** Fills the pod's emptyDirs and releases the stager; false (and logged) when that failed. */
        private boolean stage(String podName) {
            try {
                transfer.upload(podName, STAGE, volume, insideVolume(mounts), HELPER_VOLUME);
                for (StagedMount m : mounts) {
                    transfer.upload(podName, STAGE, m.source(), Set.of(), m.helperPath());
                }
                transfer.touch(podName, STAGE, STAGED);
                return true;
            } catch (IOException e) {
                LOG.warn("run {}: staging failed", id, e);
                return false;
            }
        }

        /**
         * Copies the volume (and read-write mounts) back once {@code main} has ended, then lets
         * the collector end. After a normal exit a failed copy makes the run LOST (its outputs
         * would be missing); after a stop or the time limit the copy is made if the collector is
         * still there.
         */
        private Exit collect(String podName, Pod pod, Exit end) {
            if (end.reason() == Reason.LOST || !running(pod, COLLECT, false)) {
                return end.reason() == Reason.EXITED ? lost("the outputs could not be collected", end.at()) : end;
            }
            Path collected = volume.resolveSibling("collected");
            try {
                deleteTree(collected);
                transfer.download(podName, COLLECT, HELPER_VOLUME, collected, size);
                replaceContents(volume, collected, insideVolume(mounts));
                for (StagedMount m : mounts) {
                    if (!m.readOnly()) {
                        deleteTree(collected);
                        transfer.download(podName, COLLECT, m.helperPath(), collected, m.sizeLimit());
                        replaceContents(m.source(), collected, Set.of());
                    }
                }
                transfer.touch(podName, COLLECT, COLLECTED);
                return end;
            } catch (IOException e) {
                LOG.warn("run {}: collecting its outputs failed", id, e);
                return end.reason() == Reason.EXITED ? lost("the outputs could not be collected", end.at()) : end;
            } finally {
                try {
                    deleteTree(collected);
                } catch (IOException e) {
                    LOG.warn("run {}: {} stays behind", id, collected);
                }
            }
        }

        private void startLogs(String podName) {
            logThread = Thread.ofVirtual().name("kubernetes-log-" + id).start(() -> {
                try (LogWatch watch = client.pods().inNamespace(settings.namespace()).withName(podName).inContainer(MAIN).watchLog()) {
                    logWatch = watch;
                    pump(watch.getOutput(), output, spec.limits().outputBytes(), clock);
                } catch (IOException | RuntimeException e) {
                    LOG.debug("run {}: its log stream ended: {}", id, e.toString());
                }
            });
        }

        /** Lets the log stream drain what {@code main} wrote last, then cuts it. */
        private void stopLogs() {
            Thread t = logThread;
            if (t == null) {
                return;
            }
            try {
                if (!t.join(Duration.ofSeconds(5))) {
                    LogWatch w = logWatch;
                    if (w != null) {
                        w.close();
                    }
                    t.join(Duration.ofSeconds(5));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
