package dev.citadel.server;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.pipeline.OperationRegistry;
import dev.citadel.pipeline.ProtocolAdapter;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.pipeline.audit.AuditSink;
import dev.citadel.pipeline.audit.JsonLinesAuditLog;
import dev.citadel.server.blobs.RemoteBlobStore;
import dev.citadel.server.bootstrap.ClientFiles;
import dev.citadel.server.config.BlobStoreConfig;
import dev.citadel.server.config.ConfigException;
import dev.citadel.server.config.OperatorConfig;
import dev.citadel.server.ops.OperatorMetrics;
import dev.citadel.server.ops.OperatorServer;
import dev.citadel.server.ops.Readiness;
import dev.citadel.server.config.PrivateEndpoint;
import dev.citadel.server.config.ServerConfig;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyParser;
import dev.citadel.server.fs.SecureFiles;
import dev.citadel.server.http.ApiHandler;
import dev.citadel.server.http.ApiServer;
import dev.citadel.server.http.TlsContexts;
import dev.citadel.server.keys.AesGcmSecretSealer;
import dev.citadel.server.keys.RootKeyFile;
import dev.citadel.server.tls.LocalCertificateAuthority;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.accounts.FirstStart;
import dev.citadel.services.iam.AccessKeyAuthenticator;
import dev.citadel.services.iam.IamService;
import dev.citadel.services.iam.MfaVerifier;
import dev.citadel.services.iam.PolicyAuthorizer;
import dev.citadel.services.organizations.OrganizationsService;
import dev.citadel.services.kms.EnvelopeSecretSealer;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.kms.KmsService;
import dev.citadel.services.kms.SealedBlobs;
import dev.citadel.services.s3.BlobStore;
import dev.citadel.services.s3.LocalBlobStore;
import dev.citadel.services.s3.S3Service;
import dev.citadel.services.sts.SessionTokens;
import dev.citadel.services.sts.StsService;
import dev.citadel.pipeline.protocol.ProtocolAdapters;
import dev.citadel.wire.Protocol;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Citadel process, wired by hand: this is the only place that knows every part. Start order:
 * data directory, root key, metadata store, TLS material, first-start bootstrap, services and the
 * pipeline, the listener, then the client files (which name the bound port). Close releases them
 * in reverse order.
 */
public final class Citadel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Citadel.class);

    private final ServerConfig config;
    private final List<AutoCloseable> resources;
    private final ApiServer server;
    private final ClientFiles clientFiles;
    private final FirstStart.Outcome bootstrap;
    private final URI endpoint;
    private final Map<String, Integer> privatePorts;
    private final dev.citadel.services.logs.JobLogs jobLogs;
    private final MetadataStore store;
    private final Optional<OperatorServer> operator;
    private boolean closed;

    private Citadel(ServerConfig config, List<AutoCloseable> resources, ApiServer server, ClientFiles clientFiles,
            FirstStart.Outcome bootstrap, URI endpoint, Map<String, Integer> privatePorts, dev.citadel.services.logs.JobLogs jobLogs,
            MetadataStore store, Optional<OperatorServer> operator) {
        this.store = store;
        this.operator = operator;
        this.config = config;
        this.resources = resources;
        this.server = server;
        this.clientFiles = clientFiles;
        this.bootstrap = bootstrap;
        this.endpoint = endpoint;
        this.privatePorts = Map.copyOf(privatePorts);
        this.jobLogs = jobLogs;
    }

    /** Where job output is appended (the job scheduler's producer side of the CloudWatch Logs subset). */
    public dev.citadel.services.logs.JobLogs jobLogs() {
        return jobLogs;
    }

    /** The bound port of the operator listener (metrics and health); empty when operator.listen is empty. */
    public Optional<Integer> operatorPort() {
        return operator.map(OperatorServer::port);
    }

    /** The metadata store, for tests that take it away to see readiness fail. */
    MetadataStore metadataStore() {
        return store;
    }

    /** The bound port of a private endpoint's listener. */
    public int privateEndpointPort(String id) {
        Integer port = privatePorts.get(id);
        if (port == null) {
            throw new IllegalArgumentException("no private endpoint " + id);
        }
        return port;
    }

    /** Starts Citadel with its audit log ({@link JsonLinesAuditLog} on {@code audit.log}), as the server's command line does. */
    public static Citadel start(ServerConfig config) {
        return startWithAuditSink(config, () -> new JsonLinesAuditLog(config.auditLog()));
    }

    /**
     * Starts Citadel with the given audit sink in place of its audit log. This exists only to
     * measure what the audit costs: the load tool ({@code citadel-bench}, target
     * {@code citadel-no-audit}) compares a Citadel started by {@link #start} with one whose sink
     * discards events. It is never called by the server's command line ({@code CitadelMain}), and
     * no configuration key, file or request can reach it: a running server always audits
     * ({@code ArchitectureTest.onlyStartChoosesTheAuditSink}).
     *
     * @param auditSink makes the sink at the point of the start order where the audit log is
     *     opened (after the data directory exists); the sink is closed with the server
     */
    public static Citadel startWithAuditSink(ServerConfig config, Supplier<? extends AuditSink> auditSink) {
        Objects.requireNonNull(auditSink, "auditSink is null");
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            return start(config, auditSink, resources);
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        } catch (Exception e) {
            closeAll(resources);
            throw new IllegalStateException("cannot start: " + e.getMessage(), e);
        }
    }

    private static Citadel start(ServerConfig config, Supplier<? extends AuditSink> auditSink, List<AutoCloseable> resources)
            throws Exception {
        SecureRandom random = new SecureRandom();
        Clock clock = Clock.systemUTC();
        Path dataDir = config.dataDir();
        SecureFiles.createPrivateDirectory(dataDir);
        OperatorMetrics metrics = new OperatorMetrics(dataDir);
        resources.add(metrics); // closed last

        SecretSealer rootSealer = rootSealer(config, dataDir, random);

        MetadataStore store = MetadataStore.open(config.metadata());
        resources.add(store);
        // KMS key material is sealed under the root key; every other stored secret is a sealed
        // blob under Citadel's own KMS key (EnvelopeSecretSealer), once the first start made it.
        KmsKeys kmsKeys = new KmsKeys(store, rootSealer, random, clock);
        EnvelopeSecretSealer sealer = new EnvelopeSecretSealer(rootSealer, kmsKeys);

        Path caFile;
        SslContextFactory.Server tls;
        if (config.tls().operatorSupplied()) {
            Path chain = config.tls().certificateFile().orElseThrow();
            tls = TlsContexts.server(chain, config.tls().privateKeyFile().orElseThrow());
            caFile = chain;
        } else {
            LocalCertificateAuthority ca = new LocalCertificateAuthority(dataDir.resolve("tls"), random);
            ca.ensure(config.tls().hostnames());
            tls = TlsContexts.server(ca.serverCertificateFile(), ca.serverKeyFile());
            caFile = ca.caCertificateFile();
        }

        AccountDirectory accounts = new AccountDirectory(store, sealer, random, clock);
        FirstStart.Outcome bootstrap = new FirstStart(accounts).ensure(config.adminEmail(), config.adminUser());
        sealer.useSystemKey(bootstrap.managementAccount(), config.region());
        sealer.migrate();

        OperationRegistry registry = new OperationRegistry()
                .service(StsService.DEFINITION)
                .service(OrganizationsService.DEFINITION)
                .service(IamService.DEFINITION)
                .service(KmsService.DEFINITION)
                .service(S3Service.DEFINITION)
                .service(dev.citadel.services.cloudtrail.CloudTrailService.DEFINITION)
                .service(dev.citadel.services.ecr.EcrService.DEFINITION)
                .service(dev.citadel.services.ecr.EcrService.REGISTRY)
                .service(dev.citadel.services.logs.LogsService.DEFINITION)
                .service(dev.citadel.services.sagemaker.SageMakerService.DEFINITION)
                .service(dev.citadel.services.sagemaker.SageMakerJobs.RUNTIME)
                .service(dev.citadel.services.sagemaker.SageMakerJobs.MARKETPLACE);
        PolicyAuthorizer authorizer = new PolicyAuthorizer(accounts, endpointPolicies(config));
        SessionTokens sessionTokens = new SessionTokens(sealer, accounts.ids());
        MfaVerifier mfa = new MfaVerifier(accounts, sealer);
        registry.registerAll(new StsService(accounts, sessionTokens, mfa, authorizer).operations());
        registry.registerAll(new IamService(accounts, authorizer, mfa).operations());
        registry.registerAll(new OrganizationsService(accounts).allOperations());
        kmsKeys.purge();
        KmsService kms = new KmsService(kmsKeys, authorizer);
        authorizer.register(kms);
        registry.registerAll(kms.operations());
        BlobStore objectStore = objectStore(config, dataDir, new SealedBlobs(kmsKeys), resources);
        S3Service s3 = new S3Service(store, kmsKeys, objectStore, authorizer);
        s3.sweep();
        authorizer.register(s3);
        registry.registerAll(s3.operations());
        dev.citadel.services.cloudtrail.EventIndexer history = new dev.citadel.services.cloudtrail.EventIndexer(store, config.auditLog(),
                bootstrap.managementAccount());
        dev.citadel.services.cloudtrail.DigestSigningKeys signingKeys = new dev.citadel.services.cloudtrail.DigestSigningKeys(store, sealer, random,
                clock);
        String operatorTrailArn = operatorTrail(config, store, clock, s3, bootstrap.managementAccount());
        registry.registerAll(new dev.citadel.services.cloudtrail.CloudTrailService(store, s3, history, signingKeys, clock, operatorTrailArn)
                .operations());
        dev.citadel.services.cloudtrail.TrailDelivery delivery = new dev.citadel.services.cloudtrail.TrailDelivery(store, config.auditLog(), s3,
                signingKeys, clock, random, operatorTrailArn, config.trails().deliveryInterval(), config.trails().digestInterval(),
                metrics.delivery());
        java.util.concurrent.atomic.AtomicReference<String> registryHost = new java.util.concurrent.atomic.AtomicReference<>("");
        dev.citadel.services.ecr.ImageScans scans = new dev.citadel.services.ecr.ImageScans(
                new dev.citadel.services.ecr.scan.StoredAdvisories(store), clock);
        resources.add(scans);
        dev.citadel.services.ecr.EcrService ecr = new dev.citadel.services.ecr.EcrService(store, kmsKeys,
                blobStore(config, dataDir, "images", new SealedBlobs(kmsKeys), resources), sessionTokens, clock, config.region(), registryHost::get,
                scans, authorizer);
        ecr.sweep();
        authorizer.register(ecr);
        registry.registerAll(ecr.operations());
        registry.registerAll(new dev.citadel.services.ecr.Registry(ecr).operations());
        // Job output (CloudWatch Logs subset): the job scheduler appends through jobLogs; clients only read.
        dev.citadel.services.logs.JobLogs jobLogs = new dev.citadel.services.logs.JobLogs(store, sealer, clock, config.jobs().outputLimit());
        registry.registerAll(new dev.citadel.services.logs.LogsService(jobLogs).operations());
        java.util.concurrent.atomic.AtomicReference<RequestPipeline> pipelineRef = new java.util.concurrent.atomic.AtomicReference<>();
        dev.citadel.services.sagemaker.SageMakerJobs sagemaker = sageMakerJobs(config, dataDir, store, sealer, kmsKeys, ecr, accounts, authorizer,
                clock, registryHost::get, (principal, service, operation, input) -> pipelineRef.get().invokeAs(principal, service, operation,
                        input, "sagemaker.amazonaws.com"), jobLogs);
        registry.registerAll(sagemaker.operations());
        registry.registerAll(sagemaker.runtimeOperations());
        registry.registerAll(sagemaker.marketplaceOperations());
        registry.freeze();

        AuditSink audit = Objects.requireNonNull(auditSink.get(), "the audit sink supplier returned null");
        resources.add(audit);
        delivery.start();
        resources.add(delivery); // closed before the audit log and the store
        Map<Protocol, ProtocolAdapter> adapters = ProtocolAdapters.all();
        AccessKeyAuthenticator keyAuthenticator = new AccessKeyAuthenticator(accounts, sessionTokens, clock, config.maxClockSkew());
        RequestPipeline pipeline = new RequestPipeline(config.region(), registry, keyAuthenticator,
                authorizer, audit, adapters, config.http().maxBodyBytes(), clock, config.sensitiveData(),
                dev.citadel.services.ecr.EcrService.REGISTRY, new dev.citadel.services.ecr.RegistryTokens(keyAuthenticator),
                metrics.requests(registry));
        pipelineRef.set(pipeline);
        metrics.auditBacklog(delivery::undeliveredBytes);
        metrics.sensitiveData(pipeline::sensitiveDataFindings);
        metrics.sandbox(sagemaker::usage, sagemaker::sandboxUnavailable);
        // Leftover containers of a previous process are reaped before the first request is served.
        sagemaker.start();
        resources.add(sagemaker); // closed after the listeners, before the audit log and the store

        InetSocketAddress bind = new InetSocketAddress(config.listen().getHostString(), config.listen().getPort());
        ApiServer server = new ApiServer(bind, config.http(), tls, new ApiHandler(pipeline, ""));
        server.start();
        resources.add(server);
        List<ApiServer> listeners = new ArrayList<>(List.of(server));
        Map<String, Integer> privatePorts = new java.util.LinkedHashMap<>();
        for (PrivateEndpoint e : config.privateEndpoints()) {
            ApiServer listener = new ApiServer(new InetSocketAddress(e.listen().getHostString(), e.listen().getPort()), config.http(),
                    tls, new ApiHandler(pipeline, e.id()));
            listener.start();
            resources.add(listener);
            listeners.add(listener);
            privatePorts.put(e.id(), listener.port());
        }
        Optional<OperatorServer> operator = operatorListener(config, tls, metrics, readiness(store, rootSealer, audit, listeners, sagemaker,
                resources));
        operator.ifPresent(resources::add); // closed first

        URI endpoint = config.listen().getPort() == 0
                ? URI.create(config.publicEndpoint().getScheme() + "://" + config.publicEndpoint().getHost() + ":" + server.port())
                : config.publicEndpoint();
        registryHost.set(endpoint.getHost() + (endpoint.getPort() > 0 ? ":" + endpoint.getPort() : ""));
        ClientFiles clientFiles = new ClientFiles(dataDir);
        bootstrap.newAdminKey().ifPresent(key -> clientFiles.writeCredentials(key.accessKeyId(), key.secretAccessKey()));
        if (!clientFiles.hasCredentials()) {
            LOG.warn("{} is missing; the admin's secret access key is shown only once, on first start. "
                    + "Create a new access key for the admin to restore it.", clientFiles.credentialsFile());
        }
        clientFiles.writeEndpointFiles(endpoint, config.region(), caFile);
        return new Citadel(config, resources, server, clientFiles, bootstrap, endpoint, privatePorts, jobLogs, store, operator);
    }

    /**
     * What /health/ready checks: the metadata store answers, the root key seals and opens, the
     * audit log can make events durable, every API listener is open (all required), and the
     * sandbox can run containers (optional: without it Citadel serves everything but jobs and
     * endpoints, and reports itself degraded).
     */
    private static Readiness readiness(MetadataStore store, SecretSealer rootSealer, AuditSink audit, List<ApiServer> listeners,
            dev.citadel.services.sagemaker.SageMakerJobs sagemaker, List<AutoCloseable> resources) {
        byte[] probe = "readiness".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Readiness readiness = new Readiness(List.of(
                new Readiness.Check("metadata", true, () -> {
                    store.read(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
                    return Optional.empty();
                }),
                new Readiness.Check("root-key", true, () -> {
                    SecretBytes opened = rootSealer.unseal(rootSealer.seal(SecretBytes.copyOf(probe), READINESS_CONTEXT), READINESS_CONTEXT);
                    return opened.sameAs(SecretBytes.copyOf(probe)) ? Optional.empty() : Optional.of("the root key opened something else");
                }),
                new Readiness.Check("audit-log", true, audit::failure),
                new Readiness.Check("listener", true, () -> listeners.stream().allMatch(ApiServer::isRunning) ? Optional.empty()
                        : Optional.of("an API listener is not open")),
                new Readiness.Check("sandbox", false, sagemaker::sandboxUnavailable)),
                Duration.ofSeconds(2));
        resources.add(readiness);
        return readiness;
    }

    /** The sealing context of the readiness check's round trip through the root key; nothing sealed under it is stored. */
    private static final String READINESS_CONTEXT = "citadel/readiness";

    /** The operator listener of operator.listen (TLS with the API's certificate off loopback), started; empty when there is none. */
    private static Optional<OperatorServer> operatorListener(ServerConfig config, SslContextFactory.Server tls, OperatorMetrics metrics,
            Readiness readiness) throws Exception {
        OperatorConfig operator = config.operator();
        if (operator.listen().isEmpty()) {
            return Optional.empty();
        }
        InetSocketAddress listen = operator.listen().get();
        OperatorServer server = new OperatorServer(new InetSocketAddress(listen.getHostString(), listen.getPort()),
                operator.tls() ? Optional.of(tls) : Optional.empty(), operator.token(), metrics::scrape, readiness::check);
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new ConfigException("cannot open the operator listener on " + listen.getHostString() + ":" + listen.getPort() + " ("
                    + e.getMessage() + "); set operator.listen to a free address, or to nothing for none");
        }
        return Optional.of(server);
    }

    /**
     * The operator trail: its bucket (made with CloudTrail's bucket policy when missing) and the
     * trail itself, both in the management account, as the configuration names them. Returns its
     * ARN, or "" when the configuration has none.
     */
    private static String operatorTrail(ServerConfig config, MetadataStore store, Clock clock, S3Service s3, String account) {
        String name = config.trails().operatorTrail();
        if (name.isEmpty()) {
            return "";
        }
        String bucket = config.trails().operatorBucket().isEmpty() ? "citadel-audit-" + account : config.trails().operatorBucket();
        String arn = "arn:aws:cloudtrail:" + config.region() + ":" + account + ":trail/" + name;
        try {
            s3.ensureOperatorBucket(account, config.region(), bucket,
                    dev.citadel.services.cloudtrail.CloudTrailService.bucketPolicy(bucket, account, arn));
        } catch (IllegalStateException e) {
            throw new ConfigException(e.getMessage());
        }
        return dev.citadel.services.cloudtrail.CloudTrailService.ensureOperatorTrail(store, clock, account, config.region(), name, bucket);
    }

    /** SageMaker's jobs on the configured sandbox, with the configured instance types and limits. */
    private static dev.citadel.services.sagemaker.SageMakerJobs sageMakerJobs(ServerConfig config, Path dataDir, MetadataStore store,
            dev.citadel.core.SecretSealer sealer, KmsKeys kmsKeys, dev.citadel.services.ecr.EcrService ecr, AccountDirectory accounts,
            PolicyAuthorizer authorizer, Clock clock, Supplier<String> registryHost, dev.citadel.services.sagemaker.JobData.Invoker invoker,
            dev.citadel.services.logs.JobLogs jobLogs) {
        ServerConfig.JobSettings settings = config.jobs();
        dev.citadel.services.sagemaker.InstanceTypes types = settings.instanceTypes().isEmpty()
                ? dev.citadel.services.sagemaker.InstanceTypes.defaults()
                : dev.citadel.services.sagemaker.InstanceTypes.parse(settings.instanceTypes());
        dev.citadel.services.sandbox.Sandbox sandbox = switch (settings.sandbox()) {
            case "runc" -> {
                // A container's mapped root must traverse the data directory to reach its root file system and volume:
                // the directory becomes 0711 (not listable by others; everything in it stays private).
                try {
                    java.nio.file.Files.setPosixFilePermissions(dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                try {
                    yield new dev.citadel.services.sandbox.RuncSandbox(dataDir.resolve("sandbox"), settings.imageCacheBytes());
                } catch (IllegalStateException | java.io.UncheckedIOException e) {
                    LOG.error("training and processing jobs cannot run: {}", e.getMessage());
                    yield new dev.citadel.services.sandbox.UnavailableSandbox(e.getMessage());
                }
            }
            default -> kubernetesSandbox(settings.kubernetes(), dataDir);
        };
        return new dev.citadel.services.sagemaker.SageMakerJobs(store, sealer, kmsKeys, ecr, accounts, authorizer, clock, config.region(),
                sandbox, types, settings.maxVolumeGb(), new dev.citadel.services.sagemaker.JobRunner.Limits(settings.capacity(), settings.pids(),
                settings.outputLimit(), settings.stopGrace()),
                (account, group, stream) -> new dev.citadel.services.sagemaker.JobLogSink(jobLogs, account, config.region(), group, stream, clock),
                registryHost, invoker, new dev.citadel.services.sagemaker.SageMakerJobs.Serving(settings.invocationTimeout(),
                        settings.startupTimeout(), settings.endpointVolumeGb(), settings.captureFlush(), settings.captureBufferBytes()),
                dataDir.resolve("marketplace"));
    }

    /** The Kubernetes sandbox of the configuration: its cluster from the kubeconfig named (or in-cluster), its pod settings. */
    private static dev.citadel.services.sandbox.Sandbox kubernetesSandbox(ServerConfig.Kubernetes k, Path dataDir) {
        io.fabric8.kubernetes.client.Config clientConfig;
        try {
            clientConfig = k.kubeconfig().isEmpty() ? io.fabric8.kubernetes.client.Config.autoConfigure(null)
                    : io.fabric8.kubernetes.client.Config.fromKubeconfig(java.nio.file.Files.readString(Path.of(k.kubeconfig())));
        } catch (java.io.IOException e) {
            throw new ConfigException("cannot read jobs.kubernetes.kubeconfig " + k.kubeconfig() + ": " + e.getMessage());
        }
        io.fabric8.kubernetes.client.KubernetesClient client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(clientConfig)
                .build();
        dev.citadel.services.sandbox.KubernetesSandbox.Settings settings = new dev.citadel.services.sandbox.KubernetesSandbox.Settings(
                k.namespace(), k.serviceAccount(), k.runAsUser(), Optional.of(k.runtimeClass()).filter(r -> !r.isEmpty()),
                Optional.of(k.imagePullSecret()).filter(r -> !r.isEmpty()), k.stagerImage(), dataDir.resolve("sandbox").resolve("kubernetes"));
        dev.citadel.services.sandbox.KubernetesSandbox sandbox = new dev.citadel.services.sandbox.KubernetesSandbox(client, settings);
        return new dev.citadel.services.sandbox.Sandbox() {
            @Override
            public Path createVolume(String id, long sizeBytes, byte[] key) throws java.io.IOException {
                return sandbox.createVolume(id, sizeBytes, key);
            }

            @Override
            public dev.citadel.services.sandbox.Execution start(String id, dev.citadel.services.sandbox.ContainerSpec spec, OutputSink output)
                    throws java.io.IOException {
                return sandbox.start(id, spec, output);
            }

            @Override
            public java.util.Set<String> present() throws java.io.IOException {
                return sandbox.present();
            }

            @Override
            public void remove(String id) throws java.io.IOException {
                sandbox.remove(id);
            }

            @Override
            public void close() {
                sandbox.close();
                client.close();
            }
        };
    }

    /** What the offline tools (`citadel audit verify`) read: the metadata store and the objects, opened with the root key. */
    public record Offline(MetadataStore store, S3Service s3, List<AutoCloseable> resources) implements AutoCloseable {
        @Override
        public void close() {
            closeAll(new ArrayList<>(resources));
        }
    }

    /** Opens the data directory of a configuration without serving it; the caller closes what it returns. */
    public static Offline openOffline(ServerConfig config) {
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            SecureRandom random = new SecureRandom();
            SecretSealer rootSealer = rootSealer(config, config.dataDir(), random);
            MetadataStore store = MetadataStore.open(config.metadata());
            resources.add(store);
            KmsKeys kmsKeys = new KmsKeys(store, rootSealer, random, Clock.systemUTC());
            BlobStore objects = objectStore(config, config.dataDir(), new SealedBlobs(kmsKeys), resources);
            // No request reaches this S3Service: its authorizer refuses everything.
            S3Service s3 = new S3Service(store, kmsKeys, objects, request -> dev.citadel.pipeline.authz.AuthorizationDecision.deny("*",
                    "offline"));
            return new Offline(store, s3, resources);
        } catch (RuntimeException e) {
            closeAll(resources);
            throw e;
        }
    }

    /** Where object contents live: {@code <data-dir>/objects}, or a bucket of an S3-compatible service (its client closed with the server). */
    private static BlobStore objectStore(ServerConfig config, Path dataDir, SealedBlobs blobs, List<AutoCloseable> resources) {
        return blobStore(config, dataDir, "objects", blobs, resources);
    }

    /**
     * A store of sealed blobs: {@code <data-dir>/<name>}, or, with a remote blob store, the same
     * bucket under a prefix of its own ({@code objects} uses the configured prefix, another store
     * that prefix's sibling {@code <prefix>-<name>/}), so that each store's sweep sees only its blobs.
     */
    private static BlobStore blobStore(ServerConfig config, Path dataDir, String name, SealedBlobs blobs, List<AutoCloseable> resources) {
        return switch (config.blobStore()) {
            case BlobStoreConfig.Local local -> new LocalBlobStore(dataDir.resolve(name), blobs);
            case BlobStoreConfig.Remote configured -> {
                BlobStoreConfig.Remote remote = name.equals("objects") ? configured : new BlobStoreConfig.Remote(configured.endpoint(),
                        configured.bucket(), configured.prefix().replaceAll("/+$", "") + "-" + name + "/", configured.region(),
                        configured.accessKeyId(), configured.secretAccessKey(), configured.caFile());
                RemoteBlobStore store = RemoteBlobStore.open(remote, dataDir.resolve(name.equals("objects") ? "spool" : "spool-" + name), blobs);
                resources.add(store);
                yield store;
            }
        };
    }

    /** Reads and validates each private endpoint's policy; a bad one stops the start with IAM's message. */
    private static Map<String, Policy> endpointPolicies(ServerConfig config) {
        Map<String, Policy> out = new java.util.HashMap<>();
        for (PrivateEndpoint e : config.privateEndpoints()) {
            if (e.policyFile().isEmpty()) {
                continue;
            }
            Path file = e.policyFile().get();
            try {
                out.put(e.id(), PolicyParser.parse(java.nio.file.Files.readString(file), PolicyParser.Kind.RESOURCE));
            } catch (java.io.IOException ex) {
                throw new ConfigException("cannot read the endpoint policy " + file + ": " + ex.getMessage());
            } catch (MalformedPolicyException ex) {
                throw new ConfigException("endpoint policy " + file + " of " + e.id() + " is malformed: " + ex.getMessage());
            }
        }
        return out;
    }

    /** The sealer of every stored secret: the root key file, or a non-extractable key in a PKCS#11 token. */
    static SecretSealer rootSealer(ServerConfig config, Path dataDir, SecureRandom random) {
        ServerConfig.RootKeyConfig root = config.rootKey();
        if (root.provider().equals("pkcs11")) {
            return dev.citadel.server.keys.Pkcs11SecretSealer.open(root.library(), root.slotIndex(), root.pinFile().orElseThrow(),
                    root.keyLabel(), random);
        }
        Path file = rootKeyFile(dataDir);
        if (!java.nio.file.Files.exists(file) && config.metadata().dialect() == dev.citadel.metadata.Dialect.SQLITE
                && java.nio.file.Files.exists(config.metadata().sqliteFile())) {
            // A new key would seal nothing that exists: every KMS key and secret of this store is sealed under the lost one.
            throw new IllegalStateException("the root key file " + file + " is missing, but the metadata store " + config.metadata().sqliteFile()
                    + " exists and its keys are sealed under that root key: put the data directory's root key back (see docs/BACKUP.md); "
                    + "Citadel makes a new root key only for a new data directory");
        }
        SecretBytes rootKey = RootKeyFile.loadOrCreate(file, random);
        SecretSealer sealer = new AesGcmSecretSealer(rootKey, random);
        rootKey.destroy();
        return sealer;
    }

    /** Where the file-backed root key lives in a data directory. */
    public static Path rootKeyFile(Path dataDir) {
        return dataDir.resolve("keys").resolve("root.key");
    }

    /**
     * The root key of a configuration as it exists: the key file, or the key of that label in the
     * PKCS#11 token. Unlike {@link #rootSealer}, a missing key is an error and none is made.
     */
    static SecretSealer existingRootSealer(ServerConfig config, SecureRandom random) {
        ServerConfig.RootKeyConfig root = config.rootKey();
        if (root.provider().equals("pkcs11")) {
            return dev.citadel.server.keys.Pkcs11SecretSealer.openExisting(root.library(), root.slotIndex(), root.pinFile().orElseThrow(),
                    root.keyLabel(), random);
        }
        SecretBytes rootKey = RootKeyFile.load(rootKeyFile(config.dataDir()));
        SecretSealer sealer = new AesGcmSecretSealer(rootKey, random);
        rootKey.destroy();
        return sealer;
    }

    public int port() {
        return server.port();
    }

    public URI endpoint() {
        return endpoint;
    }

    public ClientFiles clientFiles() {
        return clientFiles;
    }

    /** What the console shows after start; it names where the client files are and never prints a secret. */
    public String banner() {
        StringBuilder sb = new StringBuilder();
        sb.append("Citadel is listening on ").append(endpoint).append(" (TLS 1.2/1.3 only)\n");
        sb.append("  data directory:   ").append(config.dataDir()).append('\n');
        sb.append("  object contents:  ").append(switch (config.blobStore()) {
            case BlobStoreConfig.Local local -> config.dataDir().resolve("objects").toString();
            case BlobStoreConfig.Remote remote -> "bucket " + remote.bucket() + ", prefix '" + remote.prefix() + "' at " + remote.endpoint();
        }).append(" (sealed)\n");
        sb.append("  management account ").append(bootstrap.managementAccount()).append(", admin user '")
                .append(config.adminUser()).append("'").append(bootstrap.firstStart() ? " (created now)" : "").append('\n');
        privatePorts.forEach((id, port) -> sb.append("  private endpoint: ").append(id).append(" on port ").append(port).append('\n'));
        operator.ifPresent(o -> {
            InetSocketAddress at = config.operator().listen().orElseThrow();
            String host = at.getHostString().contains(":") ? "[" + at.getHostString() + "]" : at.getHostString();
            sb.append("  operator:         ").append(config.operator().tls() ? "https://" : "http://").append(host).append(':').append(o.port())
                    .append(" (").append(OperatorServer.METRICS).append(", ").append(OperatorServer.LIVE).append(", ").append(OperatorServer.READY)
                    .append(config.operator().token().isPresent() ? "; bearer token required" : "").append(")\n");
        });
        sb.append("  client files:     ").append(clientFiles.directory()).append('\n');
        sb.append("  try:              . ").append(clientFiles.envFile()).append(" && aws sts get-caller-identity\n");
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(resources);
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("error while stopping {}", resources.get(i).getClass().getSimpleName(), e);
            }
        }
        resources.clear();
    }

    Optional<String> adminAccessKeyId() {
        return bootstrap.newAdminKey().map(AccountDirectory.NewKey::accessKeyId);
    }
}
