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
 */
final class EndpointManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointManager.class);
    static final int PORT = 8080;
    private static final long GIB = 1L << 30;

    /** Serving limits: processes, output kept per container, the time a container has to become healthy, its volume. */
    record Limits(int pids, long outputBytes, Duration startup, int volumeGb, Duration invocationTimeout) {
    }

    /** One serving container. */
    record Instance(String runId, Execution execution, ContainerHttp http, AtomicInteger inFlight, Sandbox.OutputSink sink) {
    }

    /** A variant as it serves: its model, weight and containers. */
    static final class Variant {
        final String name;
        final String model;
        final String instanceType;
        final int count;
        final double weight;
        final List<Instance> instances = new CopyOnWriteArrayList<>();
        final AtomicInteger next = new AtomicInteger();

        Variant(String name, String model, String instanceType, int count, double weight) {
            this.name = name;
            this.model = model;
            this.instanceType = instanceType;
            this.count = count;
            this.weight = weight;
        }
    }

    /** A deployment: one endpoint configuration's variants, all started. */
    record Deployment(String configName, List<Variant> variants) {
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
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Deployment> live = new ConcurrentHashMap<>();
    /** Endpoints whose deletion began: they take no invocation while their containers stop. */
    private final java.util.Set<String> withdrawn = ConcurrentHashMap.newKeySet();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private Thread monitor;

    EndpointManager(Resources resources, Sandbox sandbox, JobImages images, ExecutionRoles roles, JobData.Invoker invoker, InstanceTypes types,
            JobRunner.LogSink logs, Limits limits, Supplier<String> registryHost) {
        this.resources = resources;
        this.sandbox = sandbox;
        this.images = images;
        this.roles = roles;
        this.data = new JobData(invoker);
        this.types = types;
        this.logs = logs;
        this.limits = limits;
        this.registryHost = registryHost;
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
        synchronized (lock(account, endpoint)) {
            Deployment next;
            try {
                next = start(account, endpoint, configName);
            } catch (IOException | RuntimeException e) {
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
            Deployment previous = live.put(key(account, endpoint), next);
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
        List<Variant> variants = new ArrayList<>();
        Deployment d = new Deployment(configName, variants);
        try {
            for (JsonNode v : body.path("ProductionVariants")) {
                Variant variant = new Variant(v.path("VariantName").asText(), v.path("ModelName").asText(), v.path("InstanceType").asText(),
                        v.path("InitialInstanceCount").asInt(1), v.path("InitialVariantWeight").asDouble(1.0));
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
        return startServing(account, variant.model, variant.instanceType, Map.of(), "/aws/sagemaker/Endpoints/" + endpoint, variant.name + "/");
    }

    /**
     * Starts one serving container of a model (not yet known healthy: see {@link #awaitHealthy}):
     * its image pulled and its artifact read as the model's execution role, {@code extraEnvironment}
     * over the model's, its output in {@code logGroup} under a stream named {@code streamPrefix}
     * and the run's id. Transform jobs use it too.
     */
    Instance startServing(String account, String modelName, String instanceType, Map<String, String> extraEnvironment, String logGroup,
            String streamPrefix) throws IOException {
        Resource model = resources.find(account, Kind.MODEL, modelName).orElseThrow(() -> new AwsException("ClientError", 400,
                "ClientError: the model " + modelName + " no longer exists."));
        ObjectNode m = resources.body(model);
        JsonNode container = m.has("PrimaryContainer") ? m.path("PrimaryContainer") : m.path("Containers").path(0);
        String roleArn = m.path("ExecutionRoleArn").asText();
        IamRole role = roles.assumable(roleArn).orElseThrow(() -> new AwsException("ClientError", 400, "ClientError: Could not assume role "
                + roleArn + ". Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."));
        Principal session = roles.session(role);
        String imageAccount = m.path("__image").path("account").asText();
        String repository = m.path("__image").path("repository").asText();
        String digest = m.path("__image").path("digest").asText();
        data.pull(session, imageAccount, repository, digest);
        InstanceTypes.Profile profile = types.profile(instanceType).orElseThrow(() -> new AwsException("ClientError", 400,
                "ClientError: instance type " + instanceType + " is no longer offered."));
        String runId = "ep-" + HexFormat.of().formatHex(bytes(10));
        boolean started = false;
        try {
            Path volume = sandbox.createVolume(runId, (long) limits.volumeGb() * GIB);
            Path modelDir = Files.createDirectories(volume.resolve("model"));
            String url = container.path("ModelDataUrl").asText("");
            if (!url.isEmpty()) {
                String[] bp = JobRequests.bucketAndPrefix(url);
                Path archive = volume.resolve("model.tar.gz");
                try {
                    data.download(session, bp[0], bp[1], archive, false);
                } catch (AwsException e) {
                    throw new AwsException("ClientError", 400, "ClientError: the model artifact " + url + " could not be read: " + e.getMessage());
                }
                ModelArtifacts.unpack(archive, modelDir, (long) limits.volumeGb() * GIB);
                Files.delete(archive);
            }
            java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
            container.path("Environment").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            env.putAll(extraEnvironment);
            ContainerSpec.Image image = new ContainerSpec.Image(digest, registryHost.get() + "/" + repository + "@" + digest,
                    (dir, tag) -> images.writeLayout(imageAccount, repository, digest, dir, tag));
            ContainerSpec spec = new ContainerSpec(image, Optional.empty(), List.of("serve"), env, "/opt/ml",
                    List.of(new ContainerSpec.Mount(modelDir, "/opt/ml/model", true)),
                    new ContainerSpec.Limits(profile.cpus(), profile.memoryBytes(), limits.pids(), limits.outputBytes()),
                    Duration.ofDays(3650), Duration.ofSeconds(10));
            Sandbox.OutputSink sink = logs.open(account, logGroup, streamPrefix + runId);
            Execution execution = sandbox.start(runId, spec, sink);
            LOG.info("serving container {} of model {} started", runId, modelName);
            Instance instance = new Instance(runId, execution, new ContainerHttp(execution, PORT, 16), new AtomicInteger(), sink);
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
        LOG.warn("endpoint {} of {}: a container of variant {} {}; replacing it", endpoint, account, v.name, why);
        v.instances.remove(failed);
        stop(failed);
        if (closed || live.get(key(account, endpoint)) != d) {
            return;
        }
        try {
            Instance fresh = startInstance(account, endpoint, v);
            try {
                awaitHealthy(fresh);
            } catch (IOException | RuntimeException e) {
                stop(fresh);
                throw e;
            }
            if (live.get(key(account, endpoint)) == d) {
                v.instances.add(fresh);
            } else {
                stop(fresh);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("endpoint {} of {}: the replacement container failed; the variant has {} of {} containers", endpoint, account,
                    v.instances.size(), v.count, e);
        }
    }

    // ---- invocations ----

    /** What an invocation gives back: the container's answer and the variant that served it. */
    record Answer(ContainerHttp.Response response, String variant) {
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
            return new Answer(r, variant.name);
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

    @Override
    public void close() {
        closed = true;
        if (monitor != null) {
            monitor.interrupt();
        }
        for (Deployment d : live.values()) {
            stopAll(d);
        }
        live.clear();
    }
}
