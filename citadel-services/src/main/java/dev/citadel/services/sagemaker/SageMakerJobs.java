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
import java.util.List;
import java.util.function.Supplier;

/**
 * SageMaker's jobs put together: the API ({@link SageMakerService}) and the scheduler
 * ({@link JobRunner}) over one store, sandbox and set of instance types.
 */
public final class SageMakerJobs implements AutoCloseable {
    private final SageMakerService service;
    private final JobRunner runner;
    private final Sandbox sandbox;

    /**
     * @param invoker runs S3 and ECR operations as a job's execution role through the request
     *                pipeline (authorized and audited); may be bound after construction, it is
     *                first called when a job runs
     * @param logs    where each job's container output goes
     */
    public SageMakerJobs(MetadataStore store, SecretSealer sealer, KmsKeys keys, EcrService ecr, AccountDirectory accounts, Authorizer authorizer,
            Clock clock, String region, Sandbox sandbox, InstanceTypes types, int maxVolumeGb, JobRunner.Limits limits, JobRunner.LogSink logs,
            Supplier<String> registryHost, JobData.Invoker invoker) {
        this.sandbox = sandbox;
        Jobs jobs = new Jobs(store, sealer, clock);
        ExecutionRoles roles = new ExecutionRoles(accounts, authorizer, clock);
        JobRequests requests = new JobRequests(types, maxVolumeGb);
        JobImages images = new JobImages(ecr);
        this.runner = new JobRunner(jobs, store, sandbox, images, roles, invoker, requests, types, logs, limits, registryHost);
        this.service = new SageMakerService(jobs, store, keys, images, roles, requests, region, runner::wake);
    }

    public List<Operation> operations() {
        return service.operations();
    }

    /** Reaps what a previous process left and starts the scheduler. */
    public void start() {
        runner.start();
    }

    @Override
    public void close() {
        runner.close();
        sandbox.close();
    }
}
