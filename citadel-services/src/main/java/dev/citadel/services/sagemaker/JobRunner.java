package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.sagemaker.JobRepository;
import dev.citadel.metadata.sagemaker.JobRepository.Job;
import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import dev.citadel.pipeline.Principal;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.Sandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler: takes queued jobs from the metadata store in order of creation, as many at a
 * time as the configured capacity, and runs each through its phases — download the inputs with
 * the execution role into a volume of the requested size, run the image in the sandbox with no
 * network and no credentials, upload the outputs sealed under the job's key, and record the end.
 *
 * <p>Nothing runs outside the store's knowledge: a job records its sandbox run before the run
 * exists, and at start every run the sandbox still holds is reaped and every job that was running
 * is failed with the reason (a container does not survive a restart of Citadel).
 */
public final class JobRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);
    private static final long GIB = 1L << 30;
    private static final int MAX_INPUT_OBJECTS = 100_000;
    static final String RESTARTED = "InternalServerError: Citadel stopped while the job was running; its container was stopped and "
            + "removed. Start the job again under a new name.";

    static final String SHUT_DOWN = "InternalServerError: Citadel was shut down while the job was running; its container was stopped "
            + "and removed. Start the job again under a new name.";

    /** Where a job's container output goes: a sink per log stream. */
    @FunctionalInterface
    public interface LogSink {
        Sandbox.OutputSink open(String account, String group, String stream);
    }

    /** What each job gets beyond its instance type: processes, output captured, and the stop grace. */
    public record Limits(int capacity, int pids, long outputBytes, Duration stopGrace) {
    }

    private Entitlements entitlements = Entitlements.NONE;
    private final Jobs jobs;
    private final MetadataStore store;
    private final Sandbox sandbox;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final JobData data;
    private final JobRequests requests;
    private final InstanceTypes types;
    private final LogSink logs;
    private final Limits limits;
    private final Supplier<String> registryHost;
    private final EndpointManager serving;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Execution> running = new ConcurrentHashMap<>();
    /** The log sinks of running jobs, flushed each round so that a quiet job's last lines are readable. */
    private final Map<String, Sandbox.OutputSink> sinks = new ConcurrentHashMap<>();
    /** The jobs this process runs, by key, with their sandbox run ids. */
    private final Map<String, String> claimed = new ConcurrentHashMap<>();
    private final Object signal = new Object();
    private volatile boolean closed;
    private Thread dispatcher;

    JobRunner(Jobs jobs, MetadataStore store, Sandbox sandbox, JobImages images, ExecutionRoles roles, JobData.Invoker invoker,
            JobRequests requests, InstanceTypes types, LogSink logs, Limits limits, Supplier<String> registryHost, EndpointManager serving) {
        this.serving = serving;
        this.jobs = jobs;
        this.store = store;
        this.sandbox = sandbox;
        this.images = images;
        this.roles = roles;
        this.data = new JobData(invoker);
        this.requests = requests;
        this.types = types;
        this.logs = logs;
        this.limits = limits;
        this.registryHost = registryHost;
    }

    /** Reaps what a previous process left, fails the jobs it was running, and starts taking jobs. */
    public void start() {
        recover();
        dispatcher = Thread.ofPlatform().name("job-scheduler").daemon().start(this::dispatch);
    }

    void recover() {
        try {
            for (String id : sandbox.present()) {
                LOG.warn("removing sandbox run {} left by a previous start", id);
                sandbox.remove(id);
            }
        } catch (IOException | RuntimeException e) {
            // No runtime, no containers: jobs will fail with the sandbox's reason when they start.
            LOG.error("the sandbox cannot list or remove leftover runs; jobs cannot run until it can: {}", e.getMessage());
        }
        for (Job job : store.read(h -> new JobRepository(h).active())) {
            boolean started = job.runId().isPresent() || !job.secondaryStatus().equals("Starting");
            if (job.status().equals("Stopping")) {
                jobs.change(job, j -> jobs.moved(j, "Stopped", "Stopped", "The job was stopped; Citadel restarted while it stopped."));
            } else if (started) {
                jobs.change(job, j -> jobs.moved(Jobs.withRun(Jobs.withFailure(j, RESTARTED), Optional.empty(), Optional.empty()), "Failed",
                        "Failed", "The " + SageMakerService.word(j.kind()) + " job failed"));
            }
        }
    }

    /** How many jobs of each kind this process runs now (in the sandbox, or moving their data). */
    public Map<Kind, Integer> running() {
        Map<Kind, Integer> out = new java.util.EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            out.put(k, 0);
        }
        for (String key : claimed.keySet()) {
            int a = key.indexOf('/');
            int b = key.indexOf('/', a + 1);
            out.merge(Kind.valueOf(key.substring(a + 1, b)), 1, Integer::sum);
        }
        return out;
    }

    /** How many jobs of each kind wait in the queue for capacity (one read of the active jobs). */
    public Map<Kind, Integer> queued() {
        Map<Kind, Integer> out = new java.util.EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            out.put(k, 0);
        }
        for (Job job : store.read(h -> new JobRepository(h).active())) {
            if (job.status().equals("InProgress") && job.runId().isEmpty() && job.secondaryStatus().equals("Starting")
                    && !claimed.containsKey(key(job))) {
                out.merge(job.kind(), 1, Integer::sum);
            }
        }
        return out;
    }

    /** Looks at the queue now rather than at the next tick. */
    public void wake() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void dispatch() {
        while (!closed) {
            try {
                tick();
            } catch (RuntimeException e) {
                LOG.error("the job scheduler failed a round", e);
            }
            synchronized (signal) {
                try {
                    signal.wait(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** One round: forward stop requests to running containers, then start queued jobs while there is capacity. */
    void tick() {
        sinks.values().forEach(JobRunner::flushQuietly);
        for (Job job : store.read(h -> new JobRepository(h).active())) {
            String key = key(job);
            if (job.status().equals("Stopping")) {
                Execution e = running.get(key);
                if (e != null) {
                    e.stop(limits.stopGrace());
                }
                continue;
            }
            if (claimed.containsKey(key) || job.runId().isPresent() || !job.secondaryStatus().equals("Starting")) {
                continue;
            }
            if (claimed.size() >= limits.capacity()) {
                return;
            }
            String runId = "job-" + HexFormat.of().formatHex(bytes(10));
            Optional<Job> taken = jobs.change(job, j -> j.status().equals("InProgress") && j.runId().isEmpty()
                    ? jobs.moved(Jobs.withRun(j, Optional.of(runId), Optional.empty()), "InProgress", "Downloading", "Downloading input data")
                    : null);
            if (taken.isPresent()) {
                claimed.put(key, runId);
                Thread.ofPlatform().name("job-" + job.name()).daemon().start(() -> {
                    try {
                        run(taken.get(), runId);
                    } finally {
                        claimed.remove(key);
                        wake();
                    }
                });
            }
        }
    }

    private static final java.util.concurrent.Executor VOLUMES = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

    private static Path volume(java.util.concurrent.CompletableFuture<Path> making) throws IOException {
        try {
            return making.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof AwsException refused) {
                throw refused;
            }
            throw e;
        }
    }

    private static void flushQuietly(Sandbox.OutputSink sink) {
        if (sink instanceof java.io.Flushable f) {
            try {
                f.flush();
            } catch (java.io.IOException | RuntimeException e) {
                LOG.warn("cannot store a job's log lines", e);
            }
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static String key(Job job) {
        return job.accountId() + "/" + job.kind() + "/" + job.name();
    }

    // ---- one job ----

    private void run(Job job, String runId) {
        if (job.kind() == Kind.TRANSFORM) {
            runTransform(job, runId);
            return;
        }
        boolean training = job.kind() == Kind.TRAINING;
        Job current = job;
        Path volume = null;
        java.util.concurrent.CompletableFuture<Path> making = null;
        Entitlements.Entitlement bought = null;
        Instant containerStarted = null;
        try {
            ObjectNode raw = jobs.request(job);
            JobRequest req = training ? requests.training(raw) : requests.processing(raw);
            IamRole role = roles.assumable(req.roleArn()).orElseThrow(() -> clientError("Could not assume role " + req.roleArn()
                    + ". Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."));
            Principal session = roles.session(role);
            // The volume (a file system made and mounted) is made while the role and the image are checked.
            long volumeBytes = (long) req.volumeSizeGb() * GIB;
            making = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                byte[] key = data.volumeKey(session, req.volumeKmsKey(), job.arn());
                try {
                    return sandbox.createVolume(runId, volumeBytes, key);
                } catch (IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                } finally {
                    java.util.Arrays.fill(key, (byte) 0);
                }
            }, VOLUMES);
            String repository = raw.path("__imageRepository").asText();
            String imageAccount = raw.path("__imageAccount").asText();
            JsonNode market = raw.path("__marketplace");
            if (market.isObject()) {
                // A subscribed product: the buyer's role has no right on the seller's registry, and needs none. The
                // subscription is what lets the job run, so it must still be active now.
                bought = entitlements.entitlement(job.accountId(), market.path("productArn").asText()).orElseThrow(() -> clientError(
                        "The subscription to marketplace listing " + market.path("listingId").asText() + " is no longer active."));
            } else {
                data.pull(session, imageAccount, repository, job.imageDigest());
            }
            InstanceTypes.Profile profile = types.profile(req.instanceType()).orElseThrow(() -> clientError("Instance type "
                    + req.instanceType() + " is no longer offered."));
            volume = volume(making);
            layout(volume, req);
            stageInputs(session, req, volume);
            ContainerSpec spec = spec(req, job, volume, profile, imageAccount, repository);
            Instant started = jobs.clock.instant();
            containerStarted = started;
            String message = training ? "Training image download completed. Training in progress." : "Processing in progress.";
            current = jobs.change(current, j -> j.status().equals("InProgress")
                    ? Jobs.withRun(jobs.moved(j, "InProgress", "Training", message), j.runId(), Optional.of(started))
                    : j.status().equals("Stopping") ? j : null).orElse(current);
            if (current.status().equals("Stopping")) {
                finishStopped(current, Optional.empty());
                return;
            }
            String group = training ? "/aws/sagemaker/TrainingJobs" : "/aws/sagemaker/ProcessingJobs";
            // the stream is made with its first lines (within a second of the start: each scheduler round flushes)
            Sandbox.OutputSink sink = logs.open(job.accountId(), group, job.name() + "/algo-1-" + started.getEpochSecond());
            sinks.put(key(job), sink);
            Execution execution = sandbox.start(runId, spec, sink);
            running.put(key(job), execution);
            Job now = jobs.find(job.accountId(), job.kind(), job.name()).orElse(current);
            if (now.status().equals("Stopping")) {
                execution.stop(limits.stopGrace());
            }
            Execution.Exit exit = execution.exit().join();
            running.remove(key(job));
            sinks.remove(key(job));
            flushQuietly(sink);
            current = jobs.find(job.accountId(), job.kind(), job.name()).orElse(current);
            finish(current, req, session, volume, exit);
        } catch (AwsException e) {
            fail(current, e.getMessage().startsWith("ClientError") ? e.getMessage() : "ClientError: " + e.getMessage());
        } catch (Exception e) {
            LOG.error("job {} failed", job.arn(), e);
            fail(current, "InternalServerError: " + (e instanceof dev.citadel.services.sandbox.SandboxException ? e.getMessage()
                    : "We encountered an internal error. Please try again."));
        } finally {
            if (making != null) {
                making.exceptionally(e -> null).join(); // the volume is removed below only once it is made
            }
            running.remove(key(job));
            Sandbox.OutputSink left = sinks.remove(key(job));
            if (left != null) {
                flushQuietly(left);
            }
            try {
                sandbox.remove(runId);
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot remove sandbox run {} of job {}", runId, job.arn(), e);
            }
            jobs.change(job, j -> j.runId().isPresent() ? Jobs.withRun(j, Optional.empty(), Optional.empty()) : null);
            if (bought != null && containerStarted != null) {
                try {
                    entitlements.recordUsage(bought, job.accountId(), job.arn(), training ? "TrainingJob" : "ProcessingJob", containerStarted,
                            jobs.clock.instant());
                } catch (RuntimeException e) {
                    LOG.error("cannot record the marketplace usage of job {}", job.arn(), e);
                }
            }
        }
    }

    /** Who may run other accounts' products (set once, before the first job). */
    void entitlements(Entitlements entitlements) {
        this.entitlements = entitlements;
    }

    // ---- transform jobs ----

    /**
     * A transform job: the model's serving container (started as for an endpoint, with the
     * model's role), each input object's records sent to it in batches, the answers stored as
     * {@code <output path>/<key tail>.out} as the model's role, sealed under the job's key.
     */
    private void runTransform(Job job, String runId) {
        Job current = job;
        EndpointManager.Instance instance = null;
        try {
            TransformRequest req = TransformRequest.parse(jobs.request(job), types);
            IamRole role = roles.assumable(job.roleArn()).orElseThrow(() -> clientError("Could not assume role " + job.roleArn()
                    + ". Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."));
            Principal session = roles.session(role);
            byte[] volumeKey = data.volumeKey(session, req.volumeKmsKey(), job.arn());
            Path scratch;
            try {
                scratch = sandbox.createVolume(runId, 8L * GIB, volumeKey);
            } finally {
                java.util.Arrays.fill(volumeKey, (byte) 0);
            }
            Map<String, String> env = new java.util.LinkedHashMap<>(req.environment());
            env.put("SAGEMAKER_BATCH", "true");
            env.put("SAGEMAKER_MAX_PAYLOAD_IN_MB", Integer.toString(req.maxPayloadMb()));
            env.put("SAGEMAKER_BATCH_STRATEGY", req.batchStrategy().equals("MultiRecord") ? "MULTI_RECORD" : "SINGLE_RECORD");
            env.put("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", Integer.toString(req.maxConcurrent()));
            instance = serving.startServing(job.accountId(), req.modelName(), req.instanceType(), env, "/aws/sagemaker/TransformJobs",
                    job.name() + "/", req.volumeKmsKey(), job.arn());
            serving.awaitHealthy(instance);
            Instant started = jobs.clock.instant();
            current = jobs.change(current, j -> j.status().equals("InProgress") ? Jobs.withRun(jobs.moved(j, "InProgress", "Transforming",
                    "Transforming input data"), j.runId(), Optional.of(started)) : j.status().equals("Stopping") ? j : null).orElse(current);
            String[] in = JobRequests.bucketAndPrefix(req.s3Uri());
            List<String[]> objects = new ArrayList<>();
            if (req.s3DataType().equals("ManifestFile")) {
                JsonNode manifest = Jobs.JSON.readTree(data.read(session, in[0], in[1], 16 << 20));
                if (!manifest.isArray() || manifest.isEmpty() || !manifest.get(0).path("prefix").isTextual()) {
                    throw clientError("The manifest " + req.s3Uri() + " is not a JSON list starting with {\"prefix\": \"s3://…\"}.");
                }
                String[] base = JobRequests.bucketAndPrefix(manifest.get(0).path("prefix").asText());
                for (int i = 1; i < manifest.size(); i++) {
                    objects.add(new String[] {base[0], base[1] + manifest.get(i).asText(""), manifest.get(i).asText("")});
                }
            } else {
                String base = in[1].contains("/") ? in[1].substring(0, in[1].lastIndexOf('/') + 1) : "";
                for (String key : data.list(session, in[0], in[1], MAX_INPUT_OBJECTS)) {
                    if (!key.endsWith("/")) {
                        objects.add(new String[] {in[0], key, key.substring(base.length())});
                    }
                }
            }
            if (objects.isEmpty()) {
                throw clientError("No S3 objects found under " + req.s3Uri() + ".");
            }
            String[] out = JobRequests.bucketAndPrefix(req.outputPath().replaceAll("/+$", "") + "/");
            for (String[] o : objects) {
                if (jobs.find(job.accountId(), job.kind(), job.name()).map(j -> j.status().equals("Stopping")).orElse(true)) {
                    finishStopped(current, Optional.empty());
                    return;
                }
                safeChild(scratch, o[2]);
                Path input = scratch.resolve("input");
                Path output = scratch.resolve("output");
                try {
                    data.download(session, o[0], o[1], input, req.compression().equals("Gzip"));
                } catch (AwsException e) {
                    throw clientError("Data download failed: s3://" + o[0] + "/" + o[1] + ": " + e.getMessage());
                }
                transformObject(instance, req, input, output);
                data.upload(session, out[0], out[1] + o[2] + ".out", output, req.outputKmsKey(), req.accept().isEmpty()
                        ? "binary/octet-stream" : req.accept());
                Files.deleteIfExists(input);
                Files.deleteIfExists(output);
            }
            jobs.change(current, j -> j.ended() ? null : j.status().equals("Stopping") ? jobs.moved(j, "Stopped", "Stopped",
                    "Transform job stopped") : jobs.moved(j, "Completed", "Completed", "Transform job completed"));
        } catch (AwsException e) {
            fail(current, e.getMessage().startsWith("ClientError") ? e.getMessage() : "ClientError: " + e.getMessage());
        } catch (Exception e) {
            LOG.error("transform job {} failed", job.arn(), e);
            fail(current, "InternalServerError: " + (e instanceof dev.citadel.services.sandbox.SandboxException ? e.getMessage()
                    : "We encountered an internal error. Please try again."));
        } finally {
            if (instance != null) {
                serving.stop(instance);
            }
            try {
                sandbox.remove(runId);
            } catch (IOException | RuntimeException e) {
                LOG.error("cannot remove sandbox run {} of job {}", runId, job.arn(), e);
            }
            jobs.change(job, j -> j.runId().isPresent() ? Jobs.withRun(j, Optional.empty(), Optional.empty()) : null);
        }
    }

    /** Sends one object's records to the container in batches, up to MaxConcurrentTransforms at a time, and writes the answers in order. */
    private void transformObject(EndpointManager.Instance instance, TransformRequest req, Path input, Path output) throws Exception {
        long max = (long) req.maxPayloadMb() << 20;
        List<byte[]> batches = TransformBatches.split(input, req.splitType(), req.batchStrategy(), max);
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        if (!req.contentType().isEmpty()) {
            headers.put("Content-Type", req.contentType());
        }
        if (!req.accept().isEmpty()) {
            headers.put("Accept", req.accept());
        }
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(req.maxConcurrent(), Thread.ofVirtual().factory());
                var file = Files.newOutputStream(output)) {
            List<java.util.concurrent.Future<byte[]>> answers = new ArrayList<>();
            for (byte[] batch : batches) {
                answers.add(pool.submit(() -> {
                    dev.citadel.services.sandbox.ContainerHttp.Response r = instance.http().exchange(
                            new dev.citadel.services.sandbox.ContainerHttp.Request("POST", "/invocations", headers, batch), Duration.ofSeconds(600),
                            max);
                    if (r.status() / 100 != 2) {
                        throw clientError("The model's container answered " + r.status() + " to a batch of the input.");
                    }
                    return r.body();
                }));
            }
            for (var answer : answers) {
                byte[] body;
                try {
                    body = answer.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof AwsException a) {
                        throw a;
                    }
                    throw clientError("A batch could not be transformed: " + e.getCause().getMessage());
                }
                file.write(body);
                if (req.assembleWith().equals("Line") && (body.length == 0 || body[body.length - 1] != '\n')) {
                    file.write('\n');
                }
            }
        }
    }

    private Job move(Job job, String status, String secondary, String message) {
        return jobs.change(job, j -> j.status().equals("InProgress") ? jobs.moved(j, status, secondary, message) : j.status().equals("Stopping")
                ? j : null).orElseGet(() -> jobs.find(job.accountId(), job.kind(), job.name()).orElse(job));
    }

    private void fail(Job job, String reason) {
        jobs.change(job, j -> {
            if (j.ended()) {
                return null;
            }
            if (j.status().equals("Stopping")) {
                return jobs.moved(j, "Stopped", "Stopped", "The job was stopped.");
            }
            return jobs.moved(Jobs.withFailure(j, reason), "Failed", "Failed", "The " + SageMakerService.word(j.kind()) + " job failed");
        });
    }

    private void finishStopped(Job job, Optional<String> outputs) {
        jobs.change(job, j -> j.ended() ? null : jobs.moved(outputs.map(o -> Jobs.withOutputs(j, o)).orElse(j), "Stopped", "Stopped",
                j.kind() == Kind.TRAINING ? "Training job stopped" : "Processing job stopped"));
    }

    private static AwsException clientError(String message) {
        return new AwsException("ClientError", 400, "ClientError: " + message);
    }

    // ---- before: the volume, the inputs, the image ----

    /** The directories of SageMaker's contract, in the volume that becomes /opt/ml. */
    private static void layout(Path volume, JobRequest req) throws IOException {
        ObjectNode resources = JsonNodeFactory.instance.objectNode().put("current_host", "algo-1")
                .put("current_instance_type", req.instanceType()).put("current_group_name", "homogeneousCluster");
        resources.putArray("hosts").add("algo-1");
        ObjectNode group = resources.putArray("instance_groups").addObject().put("instance_group_name", "homogeneousCluster")
                .put("instance_type", req.instanceType());
        group.putArray("hosts").add("algo-1");
        resources.put("network_interface_name", "lo");
        if (req.kind() == Kind.TRAINING) {
            Path config = Files.createDirectories(volume.resolve("input/config"));
            Files.createDirectories(volume.resolve("input/data"));
            Files.createDirectories(volume.resolve("model"));
            Files.createDirectories(volume.resolve("output/data"));
            Files.createDirectories(volume.resolve("code"));
            ObjectNode hyper = JsonNodeFactory.instance.objectNode();
            req.hyperParameters().forEach(hyper::put);
            Files.writeString(config.resolve("hyperparameters.json"), hyper.toString(), StandardCharsets.UTF_8);
            Files.writeString(config.resolve("resourceconfig.json"), resources.toString(), StandardCharsets.UTF_8);
            ObjectNode channels = JsonNodeFactory.instance.objectNode();
            for (JobRequest.Input in : req.inputs()) {
                ObjectNode c = channels.putObject(in.name());
                if (!in.contentType().isEmpty()) {
                    c.put("ContentType", in.contentType());
                }
                c.put("TrainingInputMode", "File").put("S3DistributionType", in.distribution()).put("RecordWrapperType", "None");
                Files.createDirectories(volume.resolve("input/data").resolve(in.name()));
            }
            Files.writeString(config.resolve("inputdataconfig.json"), channels.toString(), StandardCharsets.UTF_8);
        } else {
            Path config = Files.createDirectories(volume.resolve("config"));
            Files.createDirectories(volume.resolve("output"));
            Files.writeString(config.resolve("resourceconfig.json"), resources.toString(), StandardCharsets.UTF_8);
            ObjectNode job = JsonNodeFactory.instance.objectNode().put("ProcessingJobName", req.name());
            Files.writeString(config.resolve("processingjobconfig.json"), job.toString(), StandardCharsets.UTF_8);
            for (JobRequest.Input in : req.inputs()) {
                Files.createDirectories(inVolume(volume, in.localPath()));
            }
            for (JobRequest.Output out : req.outputs()) {
                Files.createDirectories(inVolume(volume, out.localPath()));
            }
        }
    }

    /** The host path in the volume of a container path under /opt/ml. */
    private static Path inVolume(Path volume, String containerPath) {
        String relative = containerPath.substring("/opt/ml/".length());
        Path p = volume.resolve(relative).normalize();
        if (!p.startsWith(volume)) {
            throw new IllegalArgumentException("path outside the volume");
        }
        return p;
    }

    private void stageInputs(Principal role, JobRequest req, Path volume) throws IOException {
        for (JobRequest.Input in : req.inputs()) {
            Path target = inVolume(volume, in.localPath());
            String[] bp = JobRequests.bucketAndPrefix(in.s3Uri());
            String bucket = bp[0];
            List<String[]> objects = new ArrayList<>(); // bucket, key, relative path
            try {
                if (in.s3DataType().equals("ManifestFile")) {
                    JsonNode manifest = Jobs.JSON.readTree(data.read(role, bucket, bp[1], 16 << 20));
                    if (!manifest.isArray() || manifest.isEmpty() || !manifest.get(0).path("prefix").isTextual()) {
                        throw clientError("The manifest " + in.s3Uri() + " is not a JSON list starting with {\"prefix\": \"s3://…\"}.");
                    }
                    String[] base = JobRequests.bucketAndPrefix(manifest.get(0).path("prefix").asText());
                    for (int i = 1; i < manifest.size(); i++) {
                        String relative = manifest.get(i).asText("");
                        objects.add(new String[] {base[0], base[1] + relative, relative});
                    }
                } else {
                    String prefix = bp[1];
                    String base = prefix.contains("/") ? prefix.substring(0, prefix.lastIndexOf('/') + 1) : "";
                    for (String key : data.list(role, bucket, prefix, MAX_INPUT_OBJECTS)) {
                        if (!key.endsWith("/")) {
                            objects.add(new String[] {bucket, key, key.substring(base.length())});
                        }
                    }
                }
            } catch (AwsException e) {
                throw clientError("Data download failed: " + e.getMessage());
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw clientError("The manifest " + in.s3Uri() + " is not valid JSON.");
            }
            if (objects.isEmpty()) {
                throw clientError("No S3 objects found under S3 URL \"" + in.s3Uri() + "\" given in input data source. Please ensure that the "
                        + "bucket exists, that objects exist under that S3 prefix, and that the role "
                        + req.roleArn() + " has \"s3:ListBucket\" permissions on bucket \"" + bucket + "\".");
            }
            for (String[] o : objects) {
                String relative = o[2];
                if (in.compression().equals("Gzip") && relative.endsWith(".gz")) {
                    relative = relative.substring(0, relative.length() - 3);
                }
                Path file = safeChild(target, relative);
                try {
                    data.download(role, o[0], o[1], file, in.compression().equals("Gzip"));
                } catch (AwsException e) {
                    throw clientError("Data download failed: s3://" + o[0] + "/" + o[1] + ": " + e.getMessage());
                } catch (java.nio.file.FileSystemException e) {
                    throw clientError("Data download failed: the input data does not fit the job's volume (" + req.volumeSizeGb() + " GB).");
                }
            }
        }
    }

    /** {@code relative} (an S3 key's tail) under {@code dir}, refusing keys that would leave it or name no file. */
    private static Path safeChild(Path dir, String relative) {
        if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\0")) {
            throw clientError("The S3 key tail " + JobRequests.printable(relative) + " cannot be a file name.");
        }
        for (String segment : relative.split("/")) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.length() > 255) {
                throw clientError("The S3 key tail " + JobRequests.printable(relative) + " cannot be a file name.");
            }
        }
        Path p = dir.resolve(relative).normalize();
        if (!p.startsWith(dir)) {
            throw clientError("The S3 key tail " + JobRequests.printable(relative) + " leaves the channel's directory.");
        }
        return p;
    }

    private ContainerSpec spec(JobRequest req, Job job, Path volume, InstanceTypes.Profile profile, String imageAccount, String repository) {
        ContainerSpec.Image image = new ContainerSpec.Image(job.imageDigest(), registryHost.get() + "/" + repository + "@" + job.imageDigest(),
                (dir, tag) -> images.writeLayout(imageAccount, repository, job.imageDigest(), dir, tag));
        Map<String, String> env = new java.util.LinkedHashMap<>(req.environment());
        List<ContainerSpec.Mount> mounts = new ArrayList<>();
        if (req.kind() == Kind.TRAINING) {
            env.put("TRAINING_JOB_NAME", req.name());
            env.put("TRAINING_JOB_ARN", job.arn());
            mounts.add(new ContainerSpec.Mount(volume.resolve("input/config"), "/opt/ml/input/config", true));
            mounts.add(new ContainerSpec.Mount(volume.resolve("input/data"), "/opt/ml/input/data", true));
        } else {
            env.put("PROCESSING_JOB_NAME", req.name());
            for (JobRequest.Input in : req.inputs()) {
                mounts.add(new ContainerSpec.Mount(inVolume(volume, in.localPath()), in.localPath(), true));
            }
        }
        return new ContainerSpec(image, req.entrypoint(), req.arguments(), env, "/opt/ml", mounts,
                new ContainerSpec.Limits(profile.cpus(), profile.memoryBytes(), limits.pids(), limits.outputBytes()),
                Duration.ofSeconds(req.maxRuntimeSeconds()), limits.stopGrace());
    }

    // ---- after: the outputs and the end ----

    private void finish(Job job, JobRequest req, Principal role, Path volume, Execution.Exit exit) throws IOException {
        boolean training = req.kind() == Kind.TRAINING;
        Optional<String> failure = readSmall(volume, "output/failure");
        Optional<String> message = readSmall(volume, "output/message");
        boolean stopped = exit.reason() == Execution.Reason.STOPPED || job.status().equals("Stopping");
        boolean timedOut = exit.reason() == Execution.Reason.TIME_LIMIT;
        ObjectNode outputs = JsonNodeFactory.instance.objectNode();
        message.ifPresent(m -> outputs.put("ExitMessage", m));
        if (exit.reason() == Execution.Reason.LOST) {
            fail(job, "InternalServerError: the container was lost: " + exit.detail());
            return;
        }
        if (exit.code() != 0 && !stopped && !timedOut) {
            String reason = failure.orElse("AlgorithmError: the " + (training ? "training" : "processing") + " container exited with code "
                    + exit.code() + (exit.code() == 137 ? " (killed: out of memory or by a signal)" : "") + "; see its log for more "
                    + "information.");
            Job withOutputs = jobs.change(job, j -> Jobs.withOutputs(j, outputs.toString())).orElse(job);
            fail(withOutputs, reason);
            return;
        }
        // SageMaker keeps what a stopped job saved in its SIGTERM window: the outputs are uploaded in every case but a failure.
        Job uploading = move(job, "InProgress", "Uploading", training ? "Uploading generated training model" : "Uploading output data");
        try {
            if (training) {
                String base = req.outputPath().replaceAll("/+$", "") + "/" + req.name() + "/output/";
                String[] bp = JobRequests.bucketAndPrefix(base);
                Path model = tarGz(volume, "model");
                data.upload(role, bp[0], bp[1] + "model.tar.gz", model, req.outputKmsKey(), "application/x-tar");
                outputs.put("S3ModelArtifacts", base + "model.tar.gz");
                if (linkFreeDirectory(volume, "output/data").isPresent() && hasFiles(volume.resolve("output/data"))) {
                    Path out = tarGz(volume, "output/data");
                    data.upload(role, bp[0], bp[1] + "output.tar.gz", out, req.outputKmsKey(), "application/x-tar");
                }
            } else {
                for (JobRequest.Output o : req.outputs()) {
                    Optional<Path> dir = linkFreeDirectory(volume, o.localPath().substring("/opt/ml/".length()));
                    if (dir.isPresent()) {
                        uploadTree(role, dir.get(), o.s3Uri(), req.outputKmsKey());
                    }
                }
            }
        } catch (AwsException e) {
            fail(uploading, "ClientError: Data upload failed: " + e.getMessage());
            return;
        }
        String done = outputs.toString();
        if (stopped || timedOut) {
            jobs.change(uploading, j -> j.ended() ? null : jobs.moved(Jobs.withOutputs(j, done), "Stopped", timedOut ? "MaxRuntimeExceeded"
                    : "Stopped", timedOut ? "The job reached its MaxRuntimeInSeconds and was stopped." : training ? "Training job stopped"
                    : "Processing job stopped"));
        } else {
            jobs.change(uploading, j -> j.ended() ? null
                    : jobs.moved(Jobs.withOutputs(j, done), "Completed", "Completed", training ? "Training job completed"
                    : "Processing job completed"));
        }
    }

    /**
     * The first 1024 characters of a small file the container left in its volume, read only if
     * neither it nor a directory on its way is a symbolic link (the container chose them).
     */
    static Optional<String> readSmall(Path volume, String relative) throws IOException {
        Path p = volume;
        for (String segment : relative.split("/")) {
            p = p.resolve(segment);
            if (Files.isSymbolicLink(p)) {
                return Optional.empty();
            }
        }
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (var in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            String s = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            s = s.length() > 1024 ? s.substring(0, 1024) : s;
            return s.isBlank() ? Optional.empty() : Optional.of(s);
        }
    }

    /**
     * {@code <volume>/<relative>} when it is a directory reached through no symbolic link: after
     * the container ran, any name in its volume may be a link it planted (to the host's files, as
     * Citadel reads them).
     */
    static Optional<Path> linkFreeDirectory(Path volume, String relative) {
        Path p = volume;
        for (String segment : relative.split("/")) {
            if (segment.isEmpty()) {
                continue;
            }
            p = p.resolve(segment);
            if (Files.isSymbolicLink(p)) {
                return Optional.empty();
            }
        }
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? Optional.of(p) : Optional.empty();
    }

    private static boolean hasFiles(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    /**
     * {@code <volume>/<relative>} as a gzip tar of its contents (written beside the volume's
     * directories, in the volume). Symbolic links are archived as links, never followed; a
     * directory that is itself a link gives an empty archive.
     */
    private static Path tarGz(Path volume, String relative) throws IOException {
        Path dir = volume;
        boolean linked = false;
        for (String segment : relative.split("/")) {
            dir = dir.resolve(segment);
            linked |= Files.isSymbolicLink(dir);
        }
        Path target = volume.resolve(".citadel-" + relative.replace('/', '-') + ".tar.gz");
        Path source = linked || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) ? Files.createTempDirectory(volume, ".empty") : dir;
        Process p = new ProcessBuilder("tar", "-czf", target.toString(), "--numeric-owner", "--owner=0", "--group=0", "-C", source.toString(),
                ".").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readNBytes(8192), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                if (out.contains("No space left")) {
                    throw clientError("The job's volume has no room left to package its output.");
                }
                throw new IOException("tar failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        return target;
    }

    private void uploadTree(Principal role, Path dir, String s3Uri, Optional<String> kmsKey) throws IOException {
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String[] bp = JobRequests.bucketAndPrefix(s3Uri.replaceAll("/+$", "") + "/");
        List<Path> files;
        try (var walk = Files.walk(dir)) {
            files = walk.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        }
        for (Path f : files) {
            String relative = dir.relativize(f).toString();
            data.upload(role, bp[0], bp[1] + relative, f, kmsKey, "binary/octet-stream");
        }
    }

    @Override
    public void close() {
        closed = true;
        wake();
        if (dispatcher != null) {
            dispatcher.interrupt();
            try {
                dispatcher.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // A job cannot outlive the process that runs it: its container is removed and the job fails with the reason.
        for (var e : Map.copyOf(claimed).entrySet()) {
            String[] k = e.getKey().split("/", 3);
            try {
                jobs.find(k[0], Kind.valueOf(k[1]), k[2]).ifPresent(job -> fail(job, SHUT_DOWN));
                sandbox.remove(e.getValue());
            } catch (IOException | RuntimeException ex) {
                LOG.error("cannot end job {} at shutdown", e.getKey(), ex);
            }
        }
    }
}
