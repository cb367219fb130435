package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.sagemaker.JobRepository;
import dev.citadel.metadata.sagemaker.JobRepository.Job;
import dev.citadel.metadata.sagemaker.JobRepository.Kind;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.wire.Protocol;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * SageMaker's training and processing jobs (awsJson1_1, {@code SageMaker}): Create, Describe,
 * List and Stop of each. A created job is stored and queued; {@link JobRunner} runs it in the
 * sandbox. Before anything is stored the request is validated whole, the caller's right to pass
 * the execution role is checked (iam:PassRole), the role must trust SageMaker, the image must be
 * in this registry and the KMS keys named must exist.
 */
public final class SageMakerService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("sagemaker", "sagemaker", "sagemaker", Protocol.AWS_JSON_1_1,
            "SageMaker", "2017-07-24", "", "sagemaker.amazonaws.com", false);
    private static final String NOT_FOUND = "Requested resource not found.";

    private final Jobs jobs;
    private final MetadataStore store;
    private final KmsKeys keys;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final JobRequests requests;
    private final String region;
    private final Runnable wake;
    private final Resources resources;
    private final InstanceTypes types;
    private AlgorithmService algorithms;

    /**
     * @param wake called after a job was queued or asked to stop, so that the scheduler looks at once
     */
    SageMakerService(Jobs jobs, MetadataStore store, KmsKeys keys, JobImages images, ExecutionRoles roles, JobRequests requests, String region,
            Runnable wake, Resources resources, InstanceTypes types) {
        this.resources = resources;
        this.types = types;
        this.jobs = jobs;
        this.store = store;
        this.keys = keys;
        this.images = images;
        this.roles = roles;
        this.requests = requests;
        this.region = region;
        this.wake = wake;
    }

    /** The algorithms a training job may name (set once, before the first request). */
    void algorithms(AlgorithmService algorithms) {
        this.algorithms = algorithms;
    }

    Jobs jobs() {
        return jobs;
    }

    public List<Operation> operations() {
        return List.of(
                create("CreateTrainingJob", Kind.TRAINING, "TrainingJobName"),
                op("DescribeTrainingJob", true, job(Kind.TRAINING, "TrainingJobName"), (c, i) -> describe(c, i, Kind.TRAINING)),
                op("ListTrainingJobs", true, ResourceResolver.ALL, (c, i) -> list(c, i, Kind.TRAINING)),
                op("StopTrainingJob", false, job(Kind.TRAINING, "TrainingJobName"), (c, i) -> stop(c, i, Kind.TRAINING)),
                create("CreateProcessingJob", Kind.PROCESSING, "ProcessingJobName"),
                op("DescribeProcessingJob", true, job(Kind.PROCESSING, "ProcessingJobName"), (c, i) -> describe(c, i, Kind.PROCESSING)),
                op("ListProcessingJobs", true, ResourceResolver.ALL, (c, i) -> list(c, i, Kind.PROCESSING)),
                op("StopProcessingJob", false, job(Kind.PROCESSING, "ProcessingJobName"), (c, i) -> stop(c, i, Kind.PROCESSING)),
                Operation.of(OperationSpec.builder("sagemaker", "CreateTransformJob").resources(job(Kind.TRANSFORM, "TransformJobName"))
                        .conditionKeys(this::transformKeys).maxBodyBytes(256 * 1024).build(), this::createTransform),
                op("DescribeTransformJob", true, job(Kind.TRANSFORM, "TransformJobName"), (c, i) -> describe(c, i, Kind.TRANSFORM)),
                op("ListTransformJobs", true, ResourceResolver.ALL, (c, i) -> list(c, i, Kind.TRANSFORM)),
                op("StopTransformJob", false, job(Kind.TRANSFORM, "TransformJobName"), (c, i) -> stop(c, i, Kind.TRANSFORM)));
    }

    private Operation create(String name, Kind kind, String nameMember) {
        return Operation.of(OperationSpec.builder("sagemaker", name).resources(job(kind, nameMember)).conditionKeys(this::createKeys)
                .maxBodyBytes(256 * 1024).build(), (c, i) -> create(c, i, kind));
    }

    private static Operation op(String name, boolean readOnly, ResourceResolver resources, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("sagemaker", name).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    private static ResourceResolver job(Kind kind, String member) {
        return (ctx, in) -> List.of(arn(ctx.region(), ctx.principal().account().value(), kind,
                JobRequests.string(in, member, 1, 63, JobRequests.JOB_NAME, true)));
    }

    /** The word SageMaker uses for a kind of job ({@code training}, {@code processing}, {@code transform}). */
    static String word(Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    static String nameMember(Kind kind) {
        return Character.toUpperCase(word(kind).charAt(0)) + word(kind).substring(1) + "JobName";
    }

    /** SageMaker's ARN of a job; as in SageMaker, the name is lower-cased in it. */
    static String arn(String region, String account, Kind kind, String name) {
        return "arn:aws:sagemaker:" + region + ":" + account + ":" + word(kind) + "-job/"
                + name.toLowerCase(Locale.ROOT);
    }

    /**
     * The condition keys of CreateTrainingJob and CreateProcessingJob, read from the request as
     * sent (it is validated after authorization): sagemaker:InstanceTypes, MaxRuntimeInSeconds,
     * NetworkIsolation, OutputKmsKey and VolumeKmsKey (also offered as OutputKmsKeyArn and
     * VolumeKmsKeyArn), each KMS key as the ARN of the key it names when that key exists; and
     * aws:RequestTag/*, aws:TagKeys.
     */
    private Map<String, List<String>> createKeys(RequestContext ctx, ObjectNode in) {
        Map<String, List<String>> keys = new HashMap<>();
        boolean training = in.has("TrainingJobName") || in.has("AlgorithmSpecification");
        JsonNode resources = training ? in.path("ResourceConfig") : in.path("ProcessingResources").path("ClusterConfig");
        text(resources.path("InstanceType")).ifPresent(t -> keys.put("sagemaker:InstanceTypes", List.of(t)));
        JsonNode runtime = in.path("StoppingCondition").path("MaxRuntimeInSeconds");
        if (runtime.isIntegralNumber()) {
            keys.put("sagemaker:MaxRuntimeInSeconds", List.of(runtime.asText()));
        }
        JsonNode isolation = training ? in.path("EnableNetworkIsolation") : in.path("NetworkConfig").path("EnableNetworkIsolation");
        keys.put("sagemaker:NetworkIsolation", List.of(Boolean.toString(isolation.asBoolean(false))));
        String account = ctx.principal().account().value();
        JsonNode output = training ? in.path("OutputDataConfig").path("KmsKeyId") : in.path("ProcessingOutputConfig").path("KmsKeyId");
        text(output).map(k -> keyArn(account, k)).ifPresent(k -> {
            keys.put("sagemaker:OutputKmsKey", List.of(k));
            keys.put("sagemaker:OutputKmsKeyArn", List.of(k));
        });
        text(resources.path("VolumeKmsKeyId")).map(k -> keyArn(account, k)).ifPresent(k -> {
            keys.put("sagemaker:VolumeKmsKey", List.of(k));
            keys.put("sagemaker:VolumeKmsKeyArn", List.of(k));
        });
        JsonNode tags = in.path("Tags");
        if (tags.isArray()) {
            List<String> tagKeys = new ArrayList<>();
            for (JsonNode t : tags) {
                text(t.path("Key")).ifPresent(k -> {
                    tagKeys.add(k);
                    keys.put("aws:RequestTag/" + k, List.of(t.path("Value").asText("")));
                });
            }
            keys.put("aws:TagKeys", tagKeys);
        }
        return keys;
    }

    private String keyArn(String account, String keyId) {
        try {
            return keys.resolve(account, keyId).map(k -> k.arn()).orElse(keyId);
        } catch (RuntimeException e) {
            return keyId;
        }
    }

    private static Optional<String> text(JsonNode n) {
        return n.isTextual() && !n.asText().isEmpty() ? Optional.of(n.asText()) : Optional.empty();
    }

    // ---- Create ----

    JsonNode create(RequestContext ctx, ObjectNode input, Kind kind) {
        String account = ctx.principal().account().value();
        String arn = submit(account, ctx.region(), input, kind, false, role -> roles.requirePassable(ctx, role));
        return JsonNodeFactory.instance.objectNode().put(kind == Kind.TRAINING ? "TrainingJobArn" : "ProcessingJobArn", arn);
    }

    /**
     * Validates and queues a training or processing job of {@code account}: {@link #create}'s
     * work after authorization, and what an algorithm's validation runs in the seller's account
     * ({@code validating}: the algorithm may still be validating; the role was checked when the
     * algorithm was created). A training job naming an AlgorithmName runs the algorithm's image
     * with the request checked against, and completed by, the algorithm's contract.
     *
     * @param checkRole checks that the role may be passed, after the request is valid and before anything is stored
     * @return the job's ARN
     */
    String submit(String account, String region, ObjectNode input, Kind kind, boolean validating,
            java.util.function.Consumer<String> checkRole) {
        ObjectNode original = input;
        Optional<dev.citadel.metadata.sagemaker.ResourceRepository.Resource> algorithm = Optional.empty();
        if (kind == Kind.TRAINING && input.path("AlgorithmSpecification").has("AlgorithmName")) {
            algorithm = Optional.of(algorithms.usable(account, region, input.path("AlgorithmSpecification").path("AlgorithmName").asText(),
                    validating));
            input = algorithms.jobRequest(algorithm.get(), input);
        }
        JobRequest request = kind == Kind.TRAINING ? requests.training(input) : requests.processing(input);
        String arn = arn(region, account, kind, request.name());
        if (jobs.find(account, kind, request.name()).isPresent()) {
            throw inUse(kind, arn);
        }
        checkRole.accept(request.roleArn());
        JobImages.Resolved image = algorithm.isPresent() ? algorithms.image(algorithm.get()) : images.resolve(request.image(), account);
        request.outputKmsKey().ifPresent(k -> requireKey(account, k, kind == Kind.TRAINING ? "OutputDataConfig.KmsKeyId"
                : "ProcessingOutputConfig.KmsKeyId"));
        request.volumeKmsKey().ifPresent(k -> requireKey(account, k, kind == Kind.TRAINING ? "ResourceConfig.VolumeKmsKeyId"
                : "ProcessingResources.ClusterConfig.VolumeKmsKeyId"));
        Instant now = jobs.clock.instant();
        ObjectNode stored = input.deepCopy();
        stored.put("__imageRepository", image.repository()).put("__imageAccount", image.account());
        if (algorithm.isPresent()) {
            // Describe shows the AlgorithmSpecification as the caller gave it, never the algorithm's image.
            stored.set("__algorithmSpecification", original.path("AlgorithmSpecification").deepCopy());
            stored.put("__algorithmArn", algorithm.get().arn());
            Optional<Entitlements.Entitlement> bought = algorithms.entitlement(account, algorithm.get());
            if (bought.isPresent()) {
                // A marketplace product always runs isolated, whatever the request says.
                stored.put("EnableNetworkIsolation", true);
                stored.putObject("__marketplace").put("listingId", bought.get().listingId()).put("seller", bought.get().sellerAccount())
                        .put("productArn", bought.get().productArn());
            }
        }
        ObjectNode tags = JsonNodeFactory.instance.objectNode();
        request.tags().forEach(tags::put);
        String transitions = Jobs.transition("[]", "Starting", kind == Kind.TRAINING ? "Launching requested ML instances"
                : "Starting the processing job", now);
        Job job = new Job(account, kind, request.name(), arn, "InProgress", "Starting", Optional.empty(),
                jobs.seal(kind, account, request.name(), stored), image.digest(), request.roleArn(), now, Optional.empty(), Optional.empty(),
                now, transitions, "{}", tags.toString(), Optional.empty(), Optional.empty());
        try {
            jobs.insert(job);
        } catch (DuplicateKeyException e) {
            throw inUse(kind, arn);
        }
        wake.run();
        return arn;
    }

    // ---- transform jobs ----

    private Map<String, List<String>> transformKeys(RequestContext ctx, ObjectNode in) {
        Map<String, List<String>> keys = new HashMap<>();
        text(in.path("TransformResources").path("InstanceType")).ifPresent(t -> keys.put("sagemaker:InstanceTypes", List.of(t)));
        text(in.path("ModelName")).ifPresent(m -> keys.put("sagemaker:ModelArn", List.of(InferenceService.arn(ctx.region(),
                ctx.principal().account().value(), dev.citadel.metadata.sagemaker.ResourceRepository.Kind.MODEL, m))));
        String account = ctx.principal().account().value();
        text(in.path("TransformOutput").path("KmsKeyId")).map(k -> keyArn(account, k)).ifPresent(k -> {
            keys.put("sagemaker:OutputKmsKey", List.of(k));
            keys.put("sagemaker:OutputKmsKeyArn", List.of(k));
        });
        text(in.path("TransformResources").path("VolumeKmsKeyId")).map(k -> keyArn(account, k)).ifPresent(k -> {
            keys.put("sagemaker:VolumeKmsKey", List.of(k));
            keys.put("sagemaker:VolumeKmsKeyArn", List.of(k));
        });
        InferenceService.tagKeys(in, keys);
        return keys;
    }

    JsonNode createTransform(RequestContext ctx, ObjectNode input) {
        return JsonNodeFactory.instance.objectNode().put("TransformJobArn", submitTransform(ctx.principal().account().value(), ctx.region(),
                input));
    }

    /** Validates and queues a transform job of {@code account} (after authorization; an algorithm's validation calls it too). */
    String submitTransform(String account, String region, ObjectNode input) {
        TransformRequest request = TransformRequest.parse(input, types);
        String arn = arn(region, account, Kind.TRANSFORM, request.name());
        if (jobs.find(account, Kind.TRANSFORM, request.name()).isPresent()) {
            throw inUse(Kind.TRANSFORM, arn);
        }
        var model = resources.find(account, dev.citadel.metadata.sagemaker.ResourceRepository.Kind.MODEL, request.modelName())
                .orElseThrow(() -> JobRequests.invalid("Could not find model \"" + request.modelName() + "\"."));
        ObjectNode body = resources.body(model);
        request.outputKmsKey().ifPresent(k -> requireKey(account, k, "TransformOutput.KmsKeyId"));
        request.volumeKmsKey().ifPresent(k -> requireKey(account, k, "TransformResources.VolumeKmsKeyId"));
        Instant now = jobs.clock.instant();
        ObjectNode tags = JsonNodeFactory.instance.objectNode();
        request.tags().forEach(tags::put);
        Job job = new Job(account, Kind.TRANSFORM, request.name(), arn, "InProgress", "Starting", Optional.empty(),
                jobs.seal(Kind.TRANSFORM, account, request.name(), input.deepCopy()), body.path("__image").path("digest").asText(),
                body.path("ExecutionRoleArn").asText(), now, Optional.empty(), Optional.empty(), now,
                Jobs.transition("[]", "Starting", "Starting the transform job", now), "{}", tags.toString(), Optional.empty(), Optional.empty());
        try {
            jobs.insert(job);
        } catch (DuplicateKeyException e) {
            throw inUse(Kind.TRANSFORM, arn);
        }
        wake.run();
        return arn;
    }

    private ObjectNode describeTransform(Job job) {
        ObjectNode req = jobs.request(job);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("TransformJobName", job.name()).put("TransformJobArn", job.arn()).put("TransformJobStatus", job.status());
        job.failureReason().ifPresent(f -> out.put("FailureReason", f));
        out.put("ModelName", req.path("ModelName").asText());
        out.put("MaxConcurrentTransforms", req.path("MaxConcurrentTransforms").asInt(1));
        out.put("MaxPayloadInMB", req.path("MaxPayloadInMB").asInt(6));
        out.put("BatchStrategy", req.path("BatchStrategy").asText(req.path("TransformInput").path("SplitType").asText("None").equals("Line")
                ? "MultiRecord" : "SingleRecord"));
        copy(req, out, "Environment");
        copy(req, out, "TransformInput");
        copy(req, out, "TransformOutput");
        copy(req, out, "TransformResources");
        times(out, job, "TransformStartTime", "TransformEndTime");
        return out;
    }

    private void requireKey(String account, String keyId, String member) {
        Optional<dev.citadel.metadata.kms.KmsRepository.Key> key;
        try {
            key = keys.resolve(account, keyId);
        } catch (RuntimeException e) {
            key = Optional.empty();
        }
        if (key.isEmpty()) {
            throw JobRequests.invalid(member + " " + JobRequests.printable(keyId) + " does not name a KMS key of account " + account + ".");
        }
        if (!key.get().state().equals("Enabled")) {
            throw JobRequests.invalid(member + ": the KMS key " + key.get().arn() + " is " + key.get().state() + ".");
        }
    }

    private static AwsException inUse(Kind kind, String arn) {
        return new AwsException("ResourceInUse", 400, Character.toUpperCase(word(kind).charAt(0)) + word(kind).substring(1) + " job names "
                + "must be unique within an AWS account and region, and a " + word(kind) + " job with this name "
                + "already exists (" + arn + ")");
    }

    // ---- Describe ----

    JsonNode describe(RequestContext ctx, ObjectNode input, Kind kind) {
        String name = input.path(nameMember(kind)).asText();
        Job job = jobs.find(ctx.principal().account().value(), kind, name).orElseThrow(() -> new AwsException("ValidationException", 400,
                NOT_FOUND));
        return switch (kind) {
            case TRAINING -> describeTraining(job);
            case PROCESSING -> describeProcessing(job);
            case TRANSFORM -> describeTransform(job);
        };
    }

    private ObjectNode describeTraining(Job job) {
        ObjectNode req = jobs.request(job);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("TrainingJobName", job.name());
        out.put("TrainingJobArn", job.arn());
        JsonNode artifacts = Jobs.parse(job.outputs()).path("S3ModelArtifacts");
        if (artifacts.isTextual()) {
            out.putObject("ModelArtifacts").put("S3ModelArtifacts", artifacts.asText());
        }
        out.put("TrainingJobStatus", job.status());
        out.put("SecondaryStatus", job.secondaryStatus());
        job.failureReason().ifPresent(f -> out.put("FailureReason", f));
        out.set("HyperParameters", req.path("HyperParameters").isObject() ? req.get("HyperParameters") : out.objectNode());
        ObjectNode algo = (req.has("__algorithmSpecification") ? req.path("__algorithmSpecification") : req.path("AlgorithmSpecification")).deepCopy();
        algo.put("EnableSageMakerMetricsTimeSeries", algo.path("EnableSageMakerMetricsTimeSeries").asBoolean(false));
        out.set("AlgorithmSpecification", algo);
        out.put("RoleArn", req.path("RoleArn").asText());
        copy(req, out, "InputDataConfig");
        copy(req, out, "OutputDataConfig");
        copy(req, out, "ResourceConfig");
        copy(req, out, "StoppingCondition");
        times(out, job, "TrainingStartTime", "TrainingEndTime");
        out.set("SecondaryStatusTransitions", transitions(job));
        out.put("EnableNetworkIsolation", req.path("EnableNetworkIsolation").asBoolean(false));
        out.put("EnableInterContainerTrafficEncryption", req.path("EnableInterContainerTrafficEncryption").asBoolean(false));
        out.put("EnableManagedSpotTraining", false);
        job.startedAt().ifPresent(s -> {
            long seconds = Math.max(0, java.time.Duration.between(s, job.endedAt().orElse(jobs.clock.instant())).toSeconds());
            out.put("TrainingTimeInSeconds", seconds);
            out.put("BillableTimeInSeconds", seconds);
        });
        copy(req, out, "Environment");
        return out;
    }

    private ObjectNode describeProcessing(Job job) {
        ObjectNode req = jobs.request(job);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        copy(req, out, "ProcessingInputs");
        copy(req, out, "ProcessingOutputConfig");
        out.put("ProcessingJobName", job.name());
        copy(req, out, "ProcessingResources");
        copy(req, out, "StoppingCondition");
        copy(req, out, "AppSpecification");
        copy(req, out, "Environment");
        copy(req, out, "NetworkConfig");
        out.put("RoleArn", req.path("RoleArn").asText());
        out.put("ProcessingJobArn", job.arn());
        out.put("ProcessingJobStatus", job.status());
        JsonNode exit = Jobs.parse(job.outputs()).path("ExitMessage");
        if (exit.isTextual()) {
            out.put("ExitMessage", exit.asText());
        }
        job.failureReason().ifPresent(f -> out.put("FailureReason", f));
        times(out, job, "ProcessingStartTime", "ProcessingEndTime");
        return out;
    }

    private static void copy(JsonNode from, ObjectNode to, String member) {
        if (from.hasNonNull(member)) {
            to.set(member, from.get(member).deepCopy());
        }
    }

    private static void times(ObjectNode out, Job job, String start, String end) {
        out.put("CreationTime", seconds(job.createdAt()));
        job.startedAt().ifPresent(s -> out.put(start, seconds(s)));
        job.endedAt().ifPresent(e -> out.put(end, seconds(e)));
        out.put("LastModifiedTime", seconds(job.modifiedAt()));
    }

    private static ArrayNode transitions(Job job) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (JsonNode t : Jobs.parse(job.transitions())) {
            ObjectNode n = out.addObject();
            n.put("Status", t.path("Status").asText());
            n.put("StartTime", seconds(Instant.ofEpochMilli(t.path("StartTime").asLong())));
            if (t.has("EndTime")) {
                n.put("EndTime", seconds(Instant.ofEpochMilli(t.path("EndTime").asLong())));
            }
            n.put("StatusMessage", t.path("StatusMessage").asText());
        }
        return out;
    }

    /** Epoch seconds with milliseconds, as the JSON protocols send timestamps. */
    static java.math.BigDecimal seconds(Instant t) {
        return java.math.BigDecimal.valueOf(t.toEpochMilli(), 3);
    }

    // ---- List ----

    JsonNode list(RequestContext ctx, ObjectNode in, Kind kind) {
        Listing<Job> listing = new Listing<>(in, List.of("InProgress", "Completed", "Failed", "Stopping", "Stopped"),
                List.of("Name", "CreationTime", "Status"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        listing.page(store.read(h -> new JobRepository(h).jobs(ctx.principal().account().value(), kind)),
                j -> new Listing.Facts(j.name(), j.createdAt(), j.modifiedAt(), j.status()),
                out, Character.toUpperCase(word(kind).charAt(0)) + word(kind).substring(1) + "JobSummaries", (j, s) -> {
                    if (kind == Kind.TRANSFORM) {
                        s.put("TransformJobName", j.name()).put("TransformJobArn", j.arn()).put("CreationTime", seconds(j.createdAt()));
                        j.endedAt().ifPresent(e -> s.put("TransformEndTime", seconds(e)));
                        s.put("LastModifiedTime", seconds(j.modifiedAt())).put("TransformJobStatus", j.status());
                        j.failureReason().ifPresent(f -> s.put("FailureReason", f));
                    } else if (kind == Kind.TRAINING) {
                        s.put("TrainingJobName", j.name()).put("TrainingJobArn", j.arn()).put("CreationTime", seconds(j.createdAt()));
                        j.endedAt().ifPresent(e -> s.put("TrainingEndTime", seconds(e)));
                        s.put("LastModifiedTime", seconds(j.modifiedAt())).put("TrainingJobStatus", j.status())
                                .put("SecondaryStatus", j.secondaryStatus());
                    } else {
                        s.put("ProcessingJobName", j.name()).put("ProcessingJobArn", j.arn()).put("CreationTime", seconds(j.createdAt()));
                        j.endedAt().ifPresent(e -> s.put("ProcessingEndTime", seconds(e)));
                        s.put("LastModifiedTime", seconds(j.modifiedAt()));
                        j.failureReason().ifPresent(f -> s.put("FailureReason", f));
                        s.put("ProcessingJobStatus", j.status());
                    }
                });
        return out;
    }

    // ---- Stop ----

    JsonNode stop(RequestContext ctx, ObjectNode input, Kind kind) {
        String name = input.path(nameMember(kind)).asText();
        Job job = jobs.find(ctx.principal().account().value(), kind, name).orElseThrow(() -> new AwsException("ValidationException", 400,
                NOT_FOUND));
        Instant now = jobs.clock.instant();
        Optional<Job> changed = jobs.change(job, j -> {
            if (!j.status().equals("InProgress")) {
                return null;
            }
            Job requested = Jobs.withStopRequested(j, now);
            // a job still queued has nothing to stop: it ends here; a running one is stopped by the scheduler
            return j.runId().isEmpty() && j.secondaryStatus().equals("Starting")
                    ? jobs.moved(requested, "Stopped", "Stopped", "The job was stopped before it started.")
                    : jobs.moved(requested, "Stopping", "Stopping", "Stopping the " + word(kind) + " job");
        });
        if (changed.isEmpty()) {
            Job current = jobs.find(job.accountId(), kind, name).orElse(job);
            if (!current.status().equals("Stopping")) {
                throw JobRequests.invalid("The " + word(kind) + " job " + name + " is "
                        + current.status() + "; only a job in progress can be stopped.");
            }
        }
        wake.run();
        return JsonNodeFactory.instance.objectNode();
    }
}
