package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.pipeline.Principal;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.sandbox.ContainerHttp;
import dev.citadel.services.sandbox.ContainerSpec;
import dev.citadel.services.sandbox.Execution;
import dev.citadel.services.sandbox.Sandbox;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs endpoints: for each production variant, as many serving containers as its instance count,
 * each started from its model's image with {@code serve}, its model artifact unpacked read-only
 * at {@code /opt/ml/model}, no network, and reached only through the sandbox's channel to its
 * port 8080. An endpoint is InService once every container answers {@code GET /ping}; a container
 * that ends or stops answering is replaced; an update starts the new configuration's containers
 * and moves traffic only once all are healthy, then lets the old ones finish what they serve;
 * a deletion stops everything. At start every endpoint the store holds is deployed again.
 *
 * <p>Deployments and replacements run on threads of their own. Each is counted while it may
 * create volumes or start containers, and checks {@link #close}'s flag before it creates a volume,
 * before and after it starts a container and while it waits for one to become healthy; once the
 * flag is up it removes what it made and gives up, leaving the endpoint's status for the next
 * start to deploy again. {@link #close} waits (at most {@link #CLOSE_WAIT}) for those under way to
 * finish or give up, then stops every container left, serving or draining after an update, so
 * that nothing (a container, its mounted volume) outlives the manager.
 */
final class EndpointManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointManager.class);
    private static final long GIB = 1L << 30;
    /** How long {@link #close} waits for deployments under way to finish or give up. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    /** Serving limits: processes, output kept per container, the time a container has to become healthy, its volume. */
    record Limits(int pids, long outputBytes, Duration startup, int volumeGb, Duration invocationTimeout) {
    }

    /** What a deployment under way throws once {@link #close} has begun: it stops, having removed what it made. */
    static final class Closing extends IOException {
        private static final long serialVersionUID = 1L;

        Closing() {
            super("endpoints are stopping: Citadel is shutting down");
        }
    }

    /** One serving container. */
    /** A serving container that runs another account's product: what its usage record will say when it stops. */
    private record MarketRun(Entitlements.Entitlement entitlement, String buyer, String resourceArn, String kind, Instant started) {
    }

    private final java.util.Map<String, MarketRun> marketRuns = new java.util.concurrent.ConcurrentHashMap<>();

    record Instance(String runId, Execution execution, ContainerHttp http, AtomicInteger inFlight, Sandbox.OutputSink sink) {
    }

    /** A variant as it serves: its model, weight, containers and where its captures go (when its configuration captures). */
    static final class Variant {
        final String name;
        final String model;
        final String instanceType;
        final int count;
        final double weight;
        final Optional<DataCapture.Target> capture;
        final List<Instance> instances = new CopyOnWriteArrayList<>();
        final AtomicInteger next = new AtomicInteger();
        /** The endpoint config's KmsKeyId, which the instances' volumes are encrypted under, and the endpoint's ARN. */
        Optional<String> volumeKmsKey = Optional.empty();
        String endpointArn = "";

        Variant(String name, String model, String instanceType, int count, double weight, Optional<DataCapture.Target> capture) {
            this.name = name;
            this.model = model;
            this.instanceType = instanceType;
            this.count = count;
            this.weight = weight;
            this.capture = capture;
        }
    }

    /** A deployment: one endpoint configuration's variants, all started, and its DataCaptureConfig. */
    record Deployment(String configName, List<Variant> variants, Optional<CaptureConfig> capture) {
    }

    private Entitlements entitlements = Entitlements.NONE;

    /** Who may run other accounts' products (set once, before the first deployment). */
    void entitlements(Entitlements entitlements) {
        this.entitlements = entitlements;
    }

    private final Resources resources;
    private final Sandbox sandbox;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final JobData data;
    private final InstanceTypes types;
    private final JobRunner.LogSink logs;
    private final Limits limits;
    private final Supplier<String> registryHost;
    private final DataCapture capture;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Deployment> live = new ConcurrentHashMap<>();
    /** Deployments an update replaced, finishing the calls they serve before they stop. */
    private final java.util.Set<Deployment> draining = ConcurrentHashMap.newKeySet();
    /** Endpoints whose deletion began: they take no invocation while their containers stop. */
    private final java.util.Set<String> withdrawn = ConcurrentHashMap.newKeySet();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    // guards closed's rise against inFlight and the hand-over of deployments to live
    private final Object lifecycle = new Object();
    private int inFlight;
    private volatile boolean closed;
    private Thread monitor;

    EndpointManager(Resources resources, Sandbox sandbox, JobImages images, ExecutionRoles roles, JobData.Invoker invoker, InstanceTypes types,
            JobRunner.LogSink logs, Limits limits, Supplier<String> registryHost, DataCapture capture) {
        this.resources = resources;
        this.sandbox = sandbox;
        this.images = images;
        this.roles = roles;
        this.data = new JobData(invoker);
        this.types = types;
        this.logs = logs;
        this.limits = limits;
        this.registryHost = registryHost;
        this.capture = capture;
    }

    /** How many endpoints serve now (InService or Updating with their current containers). */
    int servingEndpoints() {
        return live.size();
    }

    /** How many serving containers those endpoints have. */
    int servingContainers() {
        int n = 0;
        for (Deployment d : live.values()) {
            for (Variant v : d.variants()) {
                n += v.instances.size();
            }
        }
        return n;
    }

    static String key(String account, String name) {
        return account + "/" + name;
    }

    /** Deploys again every endpoint the store holds (after a restart their containers are gone), and starts watching containers. */
    void start() {
        for (Resource r : resources.all(Kind.ENDPOINT)) {
            switch (r.status()) {
                case "Deleting" -> Thread.ofPlatform().daemon().start(() -> finishDelete(r.accountId(), r.name()));
                case "Failed" -> {
                }
                default -> {
                    ObjectNode body = resources.body(r);
                    String config = body.path("EndpointConfigName").asText();
                    resources.change(r.accountId(), Kind.ENDPOINT, r.name(), e -> e.with("Creating", Optional.empty(), e.bodySealed(),
                            resources.clock.instant()));
                    Thread.ofPlatform().daemon().start(() -> deploy(r.accountId(), r.name(), config, "Creating"));
                }
            }
        }
        monitor = Thread.ofPlatform().name("endpoint-monitor").daemon().start(this::watch);
    }

    // ---- deploy, update, delete ----

    /** Starts the configuration's containers and, when all are healthy, serves them; the endpoint leaves {@code from} for InService or Failed. */
    void deploy(String account, String endpoint, String configName, String from) {
        if (!begin()) {
            LOG.info("endpoint {} of {}: not deployed, endpoints are stopping", endpoint, account);
            return;
        }
        try {
            synchronized (lock(account, endpoint)) {
                deployLocked(account, endpoint, configName, from);
            }
        } finally {
            end();
        }
    }

    private void deployLocked(String account, String endpoint, String configName, String from) {
        Deployment next;
        try {
            next = start(account, endpoint, configName);
        } catch (IOException | RuntimeException e) {
            if (closed) {
                // not the endpoint's fault: its status stays, and the next start deploys it again
                LOG.info("endpoint {} of {}: deployment of {} stopped, endpoints are stopping", endpoint, account, configName);
                return;
            }
            String reason = e instanceof AwsException a ? a.getMessage() : "InternalServerError: the endpoint's containers could not be "
                    + "started" + (e instanceof dev.citadel.services.sandbox.SandboxException ? ": " + e.getMessage() : ".");
            if (!(e instanceof AwsException)) {
                LOG.error("endpoint {} of {}: deployment failed", endpoint, account, e);
            } else {
                LOG.warn("endpoint {} of {}: deployment of {} failed: {}", endpoint, account, configName, reason);
            }
            boolean update = from.equals("Updating");
            resources.change(account, Kind.ENDPOINT, endpoint, r -> r.status().equals(from) ? r.with(update ? "InService" : "Failed",
                    Optional.of(Jobs.truncate(reason, 1024)), update ? bodyWith(r, Optional.empty()) : r.bodySealed(),
                    resources.clock.instant()) : null);
            return;
        }
        Deployment previous = null;
        boolean handedOver;
        synchronized (lifecycle) {
            handedOver = !closed;
            if (handedOver) {
                previous = live.put(key(account, endpoint), next);
            }
        }
        if (!handedOver) {
            LOG.info("endpoint {} of {}: deployment of {} stopped, endpoints are stopping", endpoint, account, configName);
            stopAll(next);
            return;
        }
        LOG.info("endpoint {} of {}: {} serves", endpoint, account, configName);
        Optional<Resource> moved = resources.change(account, Kind.ENDPOINT, endpoint, r -> r.status().equals(from)
                ? r.with("InService", Optional.empty(), bodyWith(r, Optional.of(configName)), resources.clock.instant()) : null);
        if (moved.isEmpty()) {
            // deleted meanwhile: nothing may keep running
            live.remove(key(account, endpoint), next);
            stopAll(next);
        }
        if (previous != null) {
            drainAndStop(previous);
        }
    }

    /** The endpoint's body after a deployment: its configuration (when a new one serves) and no pending one. */
    private byte[] bodyWith(Resource r, Optional<String> configName) {
        ObjectNode body = resources.body(r);
        configName.ifPresent(c -> body.put("EndpointConfigName", c));
        body.remove("PendingEndpointConfigName");
        return resources.seal(Kind.ENDPOINT, r.accountId(), r.name(), body);
    }

    /** Takes an endpoint out of service at once, when its deletion begins: no invocation reaches it from here on. */
    void withdraw(String account, String endpoint) {
        withdrawn.add(key(account, endpoint));
    }

    /** Stops serving an endpoint and removes it. */
    void finishDelete(String account, String endpoint) {
        synchronized (lock(account, endpoint)) {
            Deployment d = live.remove(key(account, endpoint));
            if (d != null) {
                stopAll(d);
            }
            capture.flush(account, endpoint);
            withdrawn.remove(key(account, endpoint));
            resources.delete(account, Kind.ENDPOINT, endpoint);
            locks.remove(key(account, endpoint));
        }
    }

    private Object lock(String account, String endpoint) {
        return locks.computeIfAbsent(key(account, endpoint), k -> new Object());
    }

    private Deployment start(String account, String endpoint, String configName) throws IOException {
        Resource config = resources.find(account, Kind.ENDPOINT_CONFIG, configName).orElseThrow(() -> new AwsException("ClientError", 400,
                "ClientError: the endpoint configuration " + configName + " no longer exists."));
        ObjectNode body = resources.body(config);
        Optional<CaptureConfig> captureConfig = CaptureConfig.of(body);
        List<Variant> variants = new ArrayList<>();
        Deployment d = new Deployment(configName, variants, captureConfig);
        try {
            for (JsonNode v : body.path("ProductionVariants")) {
                String name = v.path("VariantName").asText();
                String model = v.path("ModelName").asText();
                Optional<DataCapture.Target> target = captureConfig.flatMap(c -> resources.find(account, Kind.MODEL, model)
                        .map(m -> new DataCapture.Target(account, endpoint, name, resources.body(m).path("ExecutionRoleArn").asText(), c)));
                Variant variant = new Variant(name, model, v.path("InstanceType").asText(), v.path("InitialInstanceCount").asInt(1),
                        v.path("InitialVariantWeight").asDouble(1.0), target);
                variant.volumeKmsKey = body.path("KmsKeyId").isTextual() ? Optional.of(body.path("KmsKeyId").asText()) : Optional.empty();
                variant.endpointArn = resources.find(account, Kind.ENDPOINT, endpoint).map(Resource::arn).orElse(endpoint);
                variants.add(variant);
                for (int i = 0; i < variant.count; i++) {
                    variant.instances.add(startInstance(account, endpoint, variant));
                }
            }
            for (Variant v : variants) {
                for (Instance i : v.instances) {
                    awaitHealthy(i);
                }
            }
            return d;
        } catch (IOException | RuntimeException e) {
            stopAll(d);
            throw e;
        }
    }

    private Instance startInstance(String account, String endpoint, Variant variant) throws IOException {
        return startServing(account, variant.model, variant.instanceType, Map.of(), "/aws/sagemaker/Endpoints/" + endpoint, variant.name + "/",
                variant.volumeKmsKey, variant.endpointArn);
    }

    /**
     * Starts one serving container of a model (not yet known healthy: see {@link #awaitHealthy}):
     * its image pulled and its artifact read as the model's execution role, {@code extraEnvironment}
     * over the model's, its output in {@code logGroup} under a stream named {@code streamPrefix}
     * and the run's id. Transform jobs use it too.
     */
    Instance startServing(String account, String modelName, String instanceType, Map<String, String> extraEnvironment, String logGroup,
            String streamPrefix, Optional<String> volumeKmsKey, String volumeOf) throws IOException {
        if (!begin()) {
            throw new Closing();
        }
        try {
            return startServingCounted(account, modelName, instanceType, extraEnvironment, logGroup, streamPrefix, volumeKmsKey, volumeOf);
        } finally {
            end();
        }
    }

    private Instance startServingCounted(String account, String modelName, String instanceType, Map<String, String> extraEnvironment,
            String logGroup, String streamPrefix, Optional<String> volumeKmsKey, String volumeOf) throws IOException {
        Resource model = resources.find(account, Kind.MODEL, modelName).orElseThrow(() -> new AwsException("ClientError", 400,
                "ClientError: the model " + modelName + " no longer exists."));
        ObjectNode m = resources.body(model);
        JsonNode container = m.has("__container") ? m.path("__container") : m.has("PrimaryContainer") ? m.path("PrimaryContainer")
                : m.path("Containers").path(0);
        String roleArn = m.path("ExecutionRoleArn").asText();
        IamRole role = roles.assumable(roleArn).orElseThrow(() -> new AwsException("ClientError", 400, "ClientError: Could not assume role "
                + roleArn + ". Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."));
        Principal session = roles.session(role);
        String imageAccount = m.path("__image").path("account").asText();
        String repository = m.path("__image").path("repository").asText();
        String digest = m.path("__image").path("digest").asText();
        JsonNode market = m.path("__marketplace");
        Optional<Entitlements.Entitlement> bought = Optional.empty();
        if (market.isObject()) {
            // A subscribed product: still entitled now; the image is not the buyer's to pull, and the artifact is the sealed
            // copy made at listing time, opened by Citadel's launcher under the seller's KMS grant (never read as the buyer).
            bought = entitlements.entitlement(account, market.path("productArn").asText());
            if (bought.isEmpty()) {
                throw new AwsException("ClientError", 400, "ClientError: the subscription to marketplace listing "
                        + market.path("listingId").asText() + " is no longer active (unsubscribed, or the listing was withdrawn).");
            }
        } else {
            data.pull(session, imageAccount, repository, digest);
        }
        InstanceTypes.Profile profile = types.profile(instanceType).orElseThrow(() -> new AwsException("ClientError", 400,
                "ClientError: instance type " + instanceType + " is no longer offered."));
        String runId = "ep-" + HexFormat.of().formatHex(bytes(10));
        boolean started = false;
        try {
            if (closed) {
                throw new Closing();
            }
            byte[] key = data.volumeKey(session, volumeKmsKey, volumeOf);
            Path volume;
            try {
                volume = sandbox.createVolume(runId, (long) limits.volumeGb() * GIB, key);
            } finally {
                java.util.Arrays.fill(key, (byte) 0);
            }
            Path modelDir = Files.createDirectories(volume.resolve("model"));
            String url = container.path("ModelDataUrl").asText("");
            if (!url.isEmpty()) {
                String[] bp = JobRequests.bucketAndPrefix(url);
                Path archive = volume.resolve("model.tar.gz");
                if (bought.isPresent()) {
                    entitlements.openArtifact(bought.get(), archive, (long) limits.volumeGb() * GIB);
                } else {
                    try {
                        data.download(session, bp[0], bp[1], archive, false);
                    } catch (AwsException e) {
                        throw new AwsException("ClientError", 400, "ClientError: the model artifact " + url + " could not be read: "
                                + e.getMessage());
                    }
                }
                ModelArtifacts.unpack(archive, modelDir, (long) limits.volumeGb() * GIB);
                Files.delete(archive);
            }
            java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
            container.path("Environment").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            env.putAll(extraEnvironment);
            ContainerSpec.Image image = new ContainerSpec.Image(digest, registryHost.get() + "/" + repository + "@" + digest,
                    (dir, tag) -> images.writeLayout(imageAccount, repository, digest, dir, tag));
            ContainerSpec spec = ServingContainer.spec(image, env, modelDir, profile, limits.pids(), limits.outputBytes());
            Sandbox.OutputSink sink = logs.open(account, logGroup, streamPrefix + runId);
            if (closed) {
                throw new Closing();
            }
            Execution execution = sandbox.start(runId, spec, sink);
            if (closed) {
                // close() may have swept the containers already: this one is removed here (finally)
                throw new Closing();
            }
            LOG.info("serving container {} of model {} started", runId, modelName);
            Instance instance = new Instance(runId, execution, ServingContainer.http(execution), new AtomicInteger(), sink);
            bought.ifPresent(b -> marketRuns.put(runId, new MarketRun(b, account, volumeOf, volumeOf.contains(":endpoint/") ? "Endpoint"
                    : "TransformJob", Instant.now())));
            started = true;
            return instance;
        } finally {
            if (!started) {
                sandbox.remove(runId);
            }
        }
    }

    /** Waits until the container answers GET /ping with 200, for at most the startup limit. */
    void awaitHealthy(Instance instance) throws IOException {
        Instant begun = Instant.now();
        Instant deadline = begun.plus(limits.startup());
        while (Instant.now().isBefore(deadline)) {
            if (closed) {
                throw new Closing();
            }
            if (instance.execution().exit().isDone()) {
                throw new AwsException("ClientError", 400, "ClientError: a serving container exited (code "
                        + instance.execution().exit().join().code() + ") before it answered GET /ping; see its log.");
            }
            if (ping(instance, Duration.ofSeconds(2))) {
                LOG.info("serving container {} answered GET /ping after {} ms", instance.runId(), Duration.between(begun, Instant.now()).toMillis());
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
        }
        throw new AwsException("ClientError", 400, "ClientError: a serving container did not answer GET /ping within "
                + limits.startup().toSeconds() + " seconds.");
    }

    private static boolean ping(Instance instance, Duration timeout) {
        try {
            return instance.http().exchange(new ContainerHttp.Request("GET", "/ping", Map.of(), new byte[0]), timeout, 64 * 1024).status() == 200;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    // ---- watching containers ----

    /**
     * Once a second: each container's log lines are stored, and a container that has ended, or
     * failed three pings in a row while serving no call (a container busy with a long call may
     * be slow to ping), is taken out and replaced, each replacement on a thread of its own so
     * that one slow start does not hold up the others' checks.
     */
    private void watch() {
        Map<String, Integer> failedPings = new ConcurrentHashMap<>();
        java.util.Set<String> replacing = ConcurrentHashMap.newKeySet();
        while (!closed) {
            for (var e : live.entrySet()) {
                String[] k = e.getKey().split("/", 2);
                for (Variant v : e.getValue().variants()) {
                    for (Instance i : v.instances) {
                        if (replacing.contains(i.runId())) {
                            continue;
                        }
                        flush(i.sink());
                        boolean ended = i.execution().exit().isDone();
                        boolean answering = ended || i.inFlight().get() > 0 || ping(i, Duration.ofSeconds(5));
                        int failures = answering ? 0 : failedPings.merge(i.runId(), 1, Integer::sum);
                        if (answering) {
                            failedPings.remove(i.runId());
                        }
                        if (ended || failures >= 3) {
                            failedPings.remove(i.runId());
                            replacing.add(i.runId());
                            Deployment d = e.getValue();
                            Thread.ofPlatform().daemon().start(() -> {
                                try {
                                    replace(k[0], k[1], d, v, i, ended ? "exited" : "stopped answering GET /ping");
                                } finally {
                                    replacing.remove(i.runId());
                                }
                            });
                        }
                    }
                }
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException ex) {
                return;
            }
        }
    }

    /** Takes a failed container out of its variant and starts another in its place. */
    private void replace(String account, String endpoint, Deployment d, Variant v, Instance failed, String why) {
        if (!begin()) {
            return;
        }
        try {
            LOG.warn("endpoint {} of {}: a container of variant {} {}; replacing it", endpoint, account, v.name, why);
            v.instances.remove(failed);
            stop(failed);
            if (live.get(key(account, endpoint)) != d) {
                return;
            }
            Instance fresh = startInstance(account, endpoint, v);
            try {
                awaitHealthy(fresh);
            } catch (IOException | RuntimeException e) {
                stop(fresh);
                throw e;
            }
            boolean serves;
            synchronized (lifecycle) {
                serves = !closed && live.get(key(account, endpoint)) == d;
                if (serves) {
                    v.instances.add(fresh);
                }
            }
            if (!serves) {
                stop(fresh);
            }
        } catch (Closing e) {
            LOG.info("endpoint {} of {}: replacement stopped, endpoints are stopping", endpoint, account);
        } catch (IOException | RuntimeException e) {
            LOG.error("endpoint {} of {}: the replacement container failed; the variant has {} of {} containers", endpoint, account,
                    v.instances.size(), v.count, e);
        } finally {
            end();
        }
    }

    // ---- invocations ----

    /** What an invocation gives back: the container's answer, the variant that served it and where that variant's captures go. */
    record Answer(ContainerHttp.Response response, String variant, Optional<DataCapture.Target> capture) {
    }

    /**
     * Sends an invocation to one container of the endpoint: of {@code targetVariant}, or of a
     * variant drawn by weight; containers of a variant in turn. An endpoint takes invocations from
     * the moment its first deployment serves (just before it is InService) until its deletion
     * begins ({@link #withdraw}); during an update its current deployment serves them. Decided
     * here, in memory: the store is not read on an invocation's path.
     */
    Answer invoke(String account, String endpoint, Optional<String> targetVariant, ContainerHttp.Request request, long maxResponseBytes) {
        String key = key(account, endpoint);
        Deployment d = withdrawn.contains(key) ? null : live.get(key);
        if (d == null) {
            throw new AwsException("ValidationError", 400, "Endpoint " + endpoint + " of account " + account + " not found.");
        }
        Variant variant = targetVariant.map(t -> d.variants().stream().filter(v -> v.name.equals(t)).findFirst().orElseThrow(() ->
                new AwsException("ValidationError", 400, "Variant " + t + " not found for endpoint " + endpoint + "."))).orElseGet(() -> draw(d));
        List<Instance> instances = variant.instances;
        if (instances.isEmpty()) {
            throw new AwsException("ModelNotReadyException", 429, "No container of variant " + variant.name + " is ready; try again.");
        }
        Instance instance = instances.get(Math.floorMod(variant.next.getAndIncrement(), instances.size()));
        instance.inFlight().incrementAndGet();
        try {
            ContainerHttp.Response r = instance.http().exchange(request, limits.invocationTimeout(), maxResponseBytes);
            return new Answer(r, variant.name, variant.capture);
        } catch (HttpTimeoutException e) {
            throw new AwsException("ModelError", 424, "Received server error (0) from primary with message \"Your invocation timed out "
                    + "while waiting for a response from container primary. Review the latency metrics for each container, resolve the "
                    + "issue, and try again.\".");
        } catch (ContainerHttp.ProtocolException e) {
            throw new AwsException("ModelError", 424, "Received an invalid response from primary: " + e.getMessage());
        } catch (IOException e) {
            throw new AwsException("ModelError", 424, "Received server error (0) from primary with message \"The container closed the "
                    + "connection.\".");
        } finally {
            instance.inFlight().decrementAndGet();
        }
    }

    private Variant draw(Deployment d) {
        if (d.variants().size() == 1) {
            return d.variants().getFirst();
        }
        double total = 0;
        for (Variant v : d.variants()) {
            total += v.weight;
        }
        // Traffic splitting needs no secret randomness; SecureRandom would serialize every invocation on its lock.
        double x = java.util.concurrent.ThreadLocalRandom.current().nextDouble() * total;
        for (Variant v : d.variants()) {
            x -= v.weight;
            if (x < 0 && v.weight > 0) {
                return v;
            }
        }
        return d.variants().stream().filter(v -> v.weight > 0).reduce((a, b) -> b).orElse(d.variants().getLast());
    }

    /** The variants serving an endpoint now (for DescribeEndpoint), or empty. */
    Optional<Deployment> deployment(String account, String endpoint) {
        return Optional.ofNullable(live.get(key(account, endpoint)));
    }

    // ---- stopping ----

    private void drainAndStop(Deployment d) {
        draining.add(d);
        Thread.ofPlatform().daemon().start(() -> {
            Instant deadline = Instant.now().plus(limits.invocationTimeout()).plusSeconds(5);
            for (Variant v : d.variants()) {
                for (Instance i : v.instances) {
                    while (i.inFlight().get() > 0 && Instant.now().isBefore(deadline)) {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                }
            }
            stopAll(d);
            draining.remove(d);
        });
    }

    private void stopAll(Deployment d) {
        for (Variant v : d.variants()) {
            for (Instance i : v.instances) {
                stop(i);
            }
        }
    }

    private static void flush(Sandbox.OutputSink sink) {
        if (sink instanceof java.io.Flushable f) {
            try {
                f.flush();
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot store a serving container's log lines", e);
            }
        }
    }

    void stop(Instance i) {
        MarketRun run = marketRuns.remove(i.runId());
        if (run != null) {
            try {
                entitlements.recordUsage(run.entitlement(), run.buyer(), run.resourceArn(), run.kind(), run.started(), Instant.now());
            } catch (RuntimeException e) {
                LOG.error("cannot record the marketplace usage of {}", run.resourceArn(), e);
            }
        }
        flush(i.sink());
        try {
            i.http().close();
        } catch (RuntimeException e) {
            LOG.debug("closing a container's connections", e);
        }
        try {
            sandbox.remove(i.runId());
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot remove serving container {}", i.runId(), e);
        }
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** Counts an operation that may create volumes or start containers; false once {@link #close} has begun. */
    private boolean begin() {
        synchronized (lifecycle) {
            if (closed) {
                return false;
            }
            inFlight++;
            return true;
        }
    }

    private void end() {
        synchronized (lifecycle) {
            inFlight--;
            lifecycle.notifyAll();
        }
    }

    /**
     * Stops everything: no deployment starts any more, those under way get {@link #CLOSE_WAIT} to
     * finish or give up (each removes what it made), then every serving container is stopped.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            closed = true;
            long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
            long left;
            try {
                while (inFlight > 0 && (left = deadline - System.nanoTime()) > 0) {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lifecycle, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (inFlight > 0) {
                LOG.warn("{} endpoint deployments still under way after {} s; each removes what it started when it sees the shutdown",
                        inFlight, CLOSE_WAIT.toSeconds());
            }
        }
        if (monitor != null) {
            monitor.interrupt();
        }
        List<Deployment> all;
        synchronized (lifecycle) {
            all = new ArrayList<>(live.values());
            live.clear();
        }
        // replaced ones still draining stop now too (stopping twice is harmless)
        all.addAll(draining);
        for (Deployment d : all) {
            stopAll(d);
        }
    }
}
