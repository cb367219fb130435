package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.sagemaker.JobRepository;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.services.ecr.JobImages;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the validation profiles of algorithms and model packages: the jobs that must succeed, in
 * the creator's account and as its ValidationRole, before the product can be used or listed.
 *
 * <p>An algorithm's profile: a training job naming the algorithm (its TrainingJobDefinition), then,
 * when the profile has a TransformJobDefinition, a transform job over a model made of the
 * inference specification's first container and the trained artifact. A model package's profile:
 * that transform job over a model made of the package's first container and its ModelDataUrl.
 * Temporary models are deleted once their transform ends. The product goes {@code Pending} →
 * {@code InProgress} → {@code Completed}, or {@code Failed} with a reason that names the job.
 * The state lives in the product's sealed body ({@code __validation}); a round every two seconds
 * moves every product on, so a restart continues where it was.
 */
final class ProductValidation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProductValidation.class);
    private static final List<Kind> PRODUCTS = List.of(Kind.ALGORITHM, Kind.MODEL_PACKAGE);

    private final Resources resources;
    private final SageMakerService jobsApi;
    private final JobImages images;
    private final SecureRandom random = new SecureRandom();
    private final ScheduledExecutorService rounds = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "product-validation");
        t.setDaemon(true);
        return t;
    });

    ProductValidation(Resources resources, SageMakerService jobsApi, JobImages images) {
        this.resources = resources;
        this.jobsApi = jobsApi;
        this.images = images;
    }

    void start() {
        rounds.scheduleWithFixedDelay(this::round, 1, 2, TimeUnit.SECONDS);
    }

    /** Asks for a round now (a product was created). */
    void soon() {
        try {
            rounds.execute(this::round);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the next start picks the product up
        }
    }

    @Override
    public void close() {
        rounds.shutdownNow();
        try {
            rounds.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The training job of an algorithm's validation profile. */
    static ObjectNode validationTraining(String algorithm, String jobName, String role, JsonNode definition) {
        ObjectNode job = JsonNodeFactory.instance.objectNode();
        job.put("TrainingJobName", jobName);
        ObjectNode spec = job.putObject("AlgorithmSpecification").put("AlgorithmName", algorithm);
        spec.put("TrainingInputMode", definition.path("TrainingInputMode").asText("File"));
        job.put("RoleArn", role);
        for (String member : List.of("HyperParameters", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "StoppingCondition")) {
            if (definition.has(member)) {
                job.set(member, definition.get(member).deepCopy());
            }
        }
        job.put("EnableNetworkIsolation", true);
        return job;
    }

    /** The transform job of a validation profile, over {@code modelName}. */
    static ObjectNode validationTransform(String jobName, String modelName, JsonNode definition) {
        ObjectNode job = ((ObjectNode) definition).deepCopy();
        job.put("TransformJobName", jobName);
        job.put("ModelName", modelName);
        return job;
    }

    /** Moves every product being validated one step on, if its jobs allow. */
    private void round() {
        for (Kind kind : PRODUCTS) {
            List<Resource> all;
            try {
                all = resources.inValidation(kind);
            } catch (RuntimeException e) {
                LOG.error("cannot read the {}s being validated", kind, e);
                continue;
            }
            for (Resource r : all) {
                if (!r.status().equals("Pending") && !r.status().equals("InProgress")) {
                    continue;
                }
                try {
                    advance(r);
                } catch (RuntimeException e) {
                    LOG.error("validation of {} could not move on", r.arn(), e);
                    finish(r, resources.body(r), "Failed", Optional.of(e instanceof AwsException a ? a.getMessage()
                            : "An internal error stopped the validation."));
                }
            }
        }
    }

    private void advance(Resource r) {
        ObjectNode body = resources.body(r);
        JsonNode spec = body.path("ValidationSpecification");
        JsonNode profile = spec.path("ValidationProfiles").path(0);
        String role = spec.path("ValidationRole").asText();
        ObjectNode state = body.has("__validation") ? (ObjectNode) body.get("__validation") : body.putObject("__validation");
        String region = r.arn().split(":")[3];
        boolean algorithm = r.kind() == Kind.ALGORITHM;
        if (r.status().equals("Pending")) {
            state.put("status", "InProgress");
            if (algorithm) {
                String job = name(r.name());
                state.put("trainingJob", job);
                try {
                    jobsApi.submit(r.accountId(), region, validationTraining(r.name(), job, role, profile.path("TrainingJobDefinition")),
                            JobRepository.Kind.TRAINING, true, passed -> {
                            });
                } catch (AwsException e) {
                    finish(r, body, "Failed", Optional.of("The validation training job could not start: " + e.getMessage()));
                    return;
                }
            } else if (!startTransform(r, body, state, region, role, profile, inference(body).path("Containers").path(0),
                    inference(body).path("Containers").path(0).path("ModelDataUrl").asText(""))) {
                return;
            }
            store(r, "Pending", "InProgress", body);
            return;
        }
        if (!state.has("transformJob")) {
            JobRepository.Job training = jobsApi.jobs().find(r.accountId(), JobRepository.Kind.TRAINING, state.path("trainingJob").asText())
                    .orElse(null);
            if (training == null || !training.ended()) {
                return;
            }
            if (!training.status().equals("Completed")) {
                finish(r, body, "Failed", Optional.of("The validation training job " + training.name() + " ended " + training.status()
                        + training.failureReason().map(f -> ": " + f).orElse("") + "."));
                return;
            }
            JsonNode transform = profile.path("TransformJobDefinition");
            if (transform.isMissingNode() || transform.isNull()) {
                finish(r, body, "Completed", Optional.empty());
                return;
            }
            String artifacts = Jobs.parse(training.outputs()).path("S3ModelArtifacts").asText();
            if (startTransform(r, body, state, region, role, profile, inference(body).path("Containers").path(0), artifacts)) {
                store(r, "InProgress", "InProgress", body);
            }
            return;
        }
        JobRepository.Job transform = jobsApi.jobs().find(r.accountId(), JobRepository.Kind.TRANSFORM, state.path("transformJob").asText())
                .orElse(null);
        if (transform == null || !transform.ended()) {
            return;
        }
        resources.delete(r.accountId(), Kind.MODEL, state.path("model").asText());
        if (transform.status().equals("Completed")) {
            finish(r, body, "Completed", Optional.empty());
        } else {
            finish(r, body, "Failed", Optional.of("The validation transform job " + transform.name() + " ended " + transform.status()
                    + transform.failureReason().map(f -> ": " + f).orElse("") + "."));
        }
    }

    /** A product's inference specification: as given, or (a model package made from an algorithm) as derived. */
    private static JsonNode inference(ObjectNode body) {
        return body.has("__inference") ? body.path("__inference") : body.path("InferenceSpecification");
    }

    /** Makes the temporary model and starts the profile's transform job; false when it could not (the product has failed). */
    private boolean startTransform(Resource r, ObjectNode body, ObjectNode state, String region, String role, JsonNode profile,
            JsonNode container, String modelData) {
        String model = name(r.name());
        String job = name(r.name());
        state.put("model", model).put("transformJob", job);
        try {
            JobImages.Resolved image = images.resolve(container.path("Image").asText(), r.accountId());
            ObjectNode m = JsonNodeFactory.instance.objectNode();
            m.put("ModelName", model);
            ObjectNode primary = m.putObject("PrimaryContainer").put("Image", container.path("Image").asText());
            if (!modelData.isEmpty()) {
                primary.put("ModelDataUrl", modelData);
            }
            if (container.has("Environment")) {
                primary.set("Environment", container.get("Environment").deepCopy());
            }
            m.put("ExecutionRoleArn", role).put("EnableNetworkIsolation", true);
            m.putObject("__image").put("repository", image.repository()).put("account", image.account()).put("digest", image.digest());
            Instant now = resources.clock.instant();
            resources.insert(new Resource(r.accountId(), Kind.MODEL, model, InferenceService.arn(region, r.accountId(), Kind.MODEL, model),
                    "Active", Optional.empty(), resources.seal(Kind.MODEL, r.accountId(), model, m), "{}", now, now));
            jobsApi.submitTransform(r.accountId(), region, validationTransform(job, model, profile.path("TransformJobDefinition")));
            return true;
        } catch (AwsException e) {
            resources.delete(r.accountId(), Kind.MODEL, model);
            finish(r, body, "Failed", Optional.of("The validation transform job could not start: " + e.getMessage()));
            return false;
        }
    }

    private void store(Resource r, String expected, String status, ObjectNode body) {
        resources.change(r.accountId(), r.kind(), r.name(), c -> c.status().equals(expected)
                ? c.with(status, Optional.empty(), resources.seal(c.kind(), c.accountId(), c.name(), body), resources.clock.instant()) : null);
    }

    private void finish(Resource r, ObjectNode body, String status, Optional<String> reason) {
        ObjectNode state = body.has("__validation") ? (ObjectNode) body.get("__validation") : body.putObject("__validation");
        state.put("status", status);
        Optional<String> cut = reason.map(f -> f.length() > 1024 ? f.substring(0, 1024) : f);
        cut.ifPresent(f -> state.put("failureReason", f));
        resources.change(r.accountId(), r.kind(), r.name(), c -> c.status().equals("Pending") || c.status().equals("InProgress")
                ? c.with(status, cut, resources.seal(c.kind(), c.accountId(), c.name(), body), resources.clock.instant()) : null);
        LOG.info("validation of {}: {}{}", r.arn(), status, cut.map(f -> ": " + f).orElse(""));
    }

    /** A job or model name for a validation step: the product's name (cut), {@code -val-} and random hex. */
    private String name(String product) {
        byte[] b = new byte[4];
        random.nextBytes(b);
        String base = product.length() > 40 ? product.substring(0, 40) : product;
        while (base.endsWith("-")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "-val-" + HexFormat.of().formatHex(b);
    }
}
