package dev.citadel.services.sagemaker;

import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.ecr.EcrService;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.sandbox.Sandbox;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * SageMaker's jobs put together: the API ({@link SageMakerService}) and the scheduler
 * ({@link JobRunner}) over one store, sandbox and set of instance types.
 */
public final class SageMakerJobs implements AutoCloseable {
    private final SageMakerService service;
    /**
     * Endpoints: how long an invocation may take, how long a new container has to become healthy,
     * each container's volume; how often data captures are written and how many bytes of them may
     * wait in memory.
     */
    public record Serving(Duration invocationTimeout, Duration startupTimeout, int volumeGb, Duration captureFlush, long captureBufferBytes) {
        public Serving {
            java.util.Objects.requireNonNull(invocationTimeout, "invocationTimeout is null");
            java.util.Objects.requireNonNull(startupTimeout, "startupTimeout is null");
            java.util.Objects.requireNonNull(captureFlush, "captureFlush is null");
        }
    }

    /** SageMaker Runtime (InvokeEndpoint): its own REST service, signed as sagemaker. */
    public static final dev.citadel.pipeline.spec.ServiceDefinition RUNTIME = EndpointService.RUNTIME;
    private final JobRunner runner;
    private final Sandbox sandbox;
    private final EndpointManager endpoints;
    private final DataCapture capture;
    private final InferenceService inference;
    private final EndpointService endpointApi;
    private final AlgorithmService algorithms;
    private final ProductValidation validation;
    private final ModelPackageService packages;
    private final MarketplaceService marketplace;

    /**
     * @param invoker runs S3 and ECR operations as a job's execution role through the request
     *                pipeline (authorized and audited); may be bound after construction, it is
     *                first called when a job runs
     * @param logs    where each job's container output goes
     * @param productArtifacts the directory of listed model packages' sealed artifacts ({@link ProductArtifacts})
     */
    public SageMakerJobs(MetadataStore store, SecretSealer sealer, KmsKeys keys, EcrService ecr, AccountDirectory accounts, Authorizer authorizer,
            Clock clock, String region, Sandbox sandbox, InstanceTypes types, int maxVolumeGb, JobRunner.Limits limits, JobRunner.LogSink logs,
            Supplier<String> registryHost, JobData.Invoker invoker, Serving serving, java.nio.file.Path productArtifacts) {
        this.sandbox = sandbox;
        Jobs jobs = new Jobs(store, sealer, clock);
        ExecutionRoles roles = new ExecutionRoles(accounts, authorizer, clock);
        JobRequests requests = new JobRequests(types, maxVolumeGb);
        JobImages images = new JobImages(ecr);
        Resources resources = new Resources(store, sealer, clock);
        this.capture = DataCapture.asExecutionRoles(roles, new JobData(invoker), new DataCapture.Limits(serving.captureFlush(),
                serving.captureBufferBytes()));
        this.endpoints = new EndpointManager(resources, sandbox, images, roles, invoker, types, logs, new EndpointManager.Limits(limits.pids(),
                limits.outputBytes(), serving.startupTimeout(), serving.volumeGb(), serving.invocationTimeout()), registryHost, capture);
        this.runner = new JobRunner(jobs, store, sandbox, images, roles, invoker, requests, types, logs, limits, registryHost, endpoints);
        this.service = new SageMakerService(jobs, store, keys, images, roles, requests, region, runner::wake, resources, types);
        this.inference = new InferenceService(resources, keys, images, roles, types);
        this.validation = new ProductValidation(resources, service, images);
        this.algorithms = new AlgorithmService(resources, service, images, roles, types, requests, validation);
        this.packages = new ModelPackageService(resources, images, roles, types, algorithms, validation);
        inference.packages(packages);
        this.marketplace = new MarketplaceService(store, resources, images, invoker, new ProductArtifacts(productArtifacts, invoker));
        algorithms.entitlements(marketplace);
        packages.entitlements(marketplace);
        runner.entitlements(marketplace);
        endpoints.entitlements(marketplace);
        service.algorithms(algorithms);
        this.endpointApi = new EndpointService(resources, endpoints, capture);
    }

    public List<Operation> operations() {
        List<Operation> all = new java.util.ArrayList<>(service.operations());
        all.addAll(inference.operations());
        all.addAll(endpointApi.operations());
        all.addAll(algorithms.operations());
        all.addAll(packages.operations());
        return all;
    }

    /** Citadel's marketplace: listings, subscriptions, entitlements and usage records (its own service, {@link #MARKETPLACE}). */
    public static final dev.citadel.pipeline.spec.ServiceDefinition MARKETPLACE = MarketplaceService.DEFINITION;

    /** The marketplace's operations ({@link #MARKETPLACE}). */
    public List<Operation> marketplaceOperations() {
        return marketplace.operations();
    }

    /** SageMaker Runtime's operations ({@link #RUNTIME}). */
    public List<Operation> runtimeOperations() {
        return endpointApi.runtimeOperations();
    }

    /**
     * What runs now, for the operator's metrics: jobs running and queued by kind, endpoints
     * serving and their containers. Counts only, nothing that names an account or a resource.
     */
    public record Usage(java.util.Map<dev.citadel.metadata.sagemaker.JobRepository.Kind, Integer> runningJobs,
            java.util.Map<dev.citadel.metadata.sagemaker.JobRepository.Kind, Integer> queuedJobs, int endpointsInService, int servingContainers) {
        public Usage {
            runningJobs = java.util.Map.copyOf(runningJobs);
            queuedJobs = java.util.Map.copyOf(queuedJobs);
        }
    }

    /** Counts what runs now; reads the active jobs once. */
    public Usage usage() {
        return new Usage(runner.running(), runner.queued(), endpoints.servingEndpoints(), endpoints.servingContainers());
    }

    /** Why the sandbox cannot run containers, or empty when it can. */
    public java.util.Optional<String> sandboxUnavailable() {
        return sandbox.unavailable();
    }

    /** Reaps what a previous process left and starts the scheduler. */
    public void start() {
        runner.start();
        capture.start();
        endpoints.start();
        validation.start();
    }

    @Override
    public void close() {
        validation.close();
        endpoints.close();
        // after the endpoints: no invocation adds captures any more, and what is buffered is written
        capture.close();
        runner.close();
        sandbox.close();
    }
}
