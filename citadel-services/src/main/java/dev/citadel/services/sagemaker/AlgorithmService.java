package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.services.ecr.JobImages;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SageMaker's algorithms (CreateAlgorithm, DescribeAlgorithm, ListAlgorithms, DeleteAlgorithm):
 * a training image with its declared contract ({@link AlgorithmSpecs}), optionally an inference
 * specification, and a validation profile whose jobs run in the creator's account before the
 * algorithm can be used.
 *
 * <p>Status: without a ValidationSpecification an algorithm is {@code Completed} at once; with one
 * it is {@code Pending}, then {@code InProgress} while its validation training job (and then, when
 * the profile has a TransformJobDefinition, a transform job with the trained model under the
 * inference specification's first container) runs as the ValidationRole, then {@code Completed}
 * or {@code Failed} with the job's reason. The validation jobs are ordinary jobs of the account
 * (named {@code <algorithm>-val-<random>}), visible with Describe and List; the model a transform
 * validation needs exists only while it runs ({@link ProductValidation} runs them).
 * Training jobs name the algorithm by AlgorithmName only once it is {@code Completed}.
 */
final class AlgorithmService {
    private static final Pattern ARN = Pattern.compile("arn:aws[a-z\\-]*:sagemaker:([a-z0-9\\-]+):(\\d{12}):algorithm/(.+)");
    private static final Pattern ROLE_ARN = JobRequests.ROLE_ARN;

    private final Resources resources;
    private final SageMakerService jobsApi;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final InstanceTypes types;
    private final JobRequests requests;
    private final ProductValidation validation;
    private Entitlements entitlements = Entitlements.NONE;

    AlgorithmService(Resources resources, SageMakerService jobsApi, JobImages images, ExecutionRoles roles, InstanceTypes types,
            JobRequests requests, ProductValidation validation) {
        this.resources = resources;
        this.jobsApi = jobsApi;
        this.images = images;
        this.roles = roles;
        this.types = types;
        this.requests = requests;
        this.validation = validation;
    }

    List<Operation> operations() {
        return List.of(
                InferenceService.op("CreateAlgorithm", false, named(), InferenceService::tagKeysOnly, this::create),
                InferenceService.op("DescribeAlgorithm", true, named(), null, this::describe),
                InferenceService.op("ListAlgorithms", true, ResourceResolver.ALL, null, this::list),
                InferenceService.op("DeleteAlgorithm", false, named(), null, this::delete));
    }

    /** The algorithm's ARN, from its name or ARN (an ARN of another account names that account's algorithm). */
    private static ResourceResolver named() {
        return (ctx, in) -> {
            String given = JobRequests.string(in, "AlgorithmName", 1, 170, null, true);
            Matcher m = ARN.matcher(given);
            if (m.matches()) {
                return List.of(given);
            }
            return List.of(InferenceService.arn(ctx.region(), ctx.principal().account().value(), Kind.ALGORITHM, name(given)));
        };
    }

    private static String name(String given) {
        Matcher m = ARN.matcher(given);
        String name = m.matches() ? m.group(3) : given;
        if (!AlgorithmSpecs.NAME.matcher(name).matches()) {
            throw JobRequests.invalid("1 validation error detected: Value " + JobRequests.printable(given) + " at 'algorithmName' failed to "
                    + "satisfy constraint: Member must satisfy regular expression pattern: " + AlgorithmSpecs.NAME.pattern());
        }
        return name;
    }

    /** The account an AlgorithmName refers to: the caller's, or the one its ARN names. */
    private static String owner(String given, String caller) {
        Matcher m = ARN.matcher(given);
        return m.matches() ? m.group(2) : caller;
    }

    // ---- Create ----

    JsonNode create(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = JobRequests.string(in, "AlgorithmName", 1, 63, AlgorithmSpecs.NAME, true);
        JobRequests.string(in, "AlgorithmDescription", 0, 1024, null, false);
        AlgorithmSpecs.Training training = AlgorithmSpecs.training(in.path("TrainingSpecification"), types);
        JsonNode inference = in.path("InferenceSpecification");
        if (!inference.isMissingNode() && !inference.isNull()) {
            AlgorithmSpecs.inference(inference, types);
        }
        JsonNode validation = in.path("ValidationSpecification");
        boolean validates = !validation.isMissingNode() && !validation.isNull();
        if (in.path("CertifyForMarketplace").asBoolean(false) && !validates) {
            throw JobRequests.invalid("CertifyForMarketplace needs a ValidationSpecification: a product is validated before it is listed.");
        }
        Map<String, String> tags = JobRequests.tags(in);
        String arn = InferenceService.arn(ctx.region(), account, Kind.ALGORITHM, name);
        if (resources.find(account, Kind.ALGORITHM, name).isPresent()) {
            throw new AwsException("ValidationException", 400, "Cannot create already existing algorithm \"" + arn + "\".");
        }
        JobImages.Resolved image = images.resolve(training.image(), account);
        if (training.imageDigest().isPresent() && !training.imageDigest().get().equals(image.digest())) {
            throw JobRequests.invalid("TrainingImageDigest " + training.imageDigest().get() + " is not the digest of " + JobRequests.printable(
                    training.image()) + " (" + image.digest() + ").");
        }
        ObjectNode body = in.deepCopy();
        body.putObject("__image").put("repository", image.repository()).put("account", image.account()).put("digest", image.digest());
        if (validates) {
            checkValidation(ctx, account, ctx.region(), name, validation, training, image, inference);
        }
        Instant now = resources.clock.instant();
        try {
            resources.insert(new Resource(account, Kind.ALGORITHM, name, arn, validates ? "Pending" : "Completed", Optional.empty(),
                    resources.seal(Kind.ALGORITHM, account, name, body), AlgorithmSpecs.tagJson(tags), now, now));
        } catch (DuplicateKeyException e) {
            throw new AwsException("ValidationException", 400, "Cannot create already existing algorithm \"" + arn + "\".");
        }
        if (validates) {
            this.validation.soon();
        }
        return JsonNodeFactory.instance.objectNode().put("AlgorithmArn", arn);
    }

    /**
     * The validation profile must be one whose jobs can run: the role passable and trusting
     * SageMaker, the training job definition keeping the algorithm's own contract, a transform
     * definition only with an inference specification. Checked whole before anything is stored.
     */
    private void checkValidation(RequestContext ctx, String account, String region, String name, JsonNode spec,
            AlgorithmSpecs.Training training, JobImages.Resolved image, JsonNode inference) {
        if (!spec.isObject()) {
            throw JobRequests.invalid("ValidationSpecification must be a structure.");
        }
        String role = JobRequests.string(spec, "ValidationRole", 20, 2048, ROLE_ARN, true);
        JsonNode profiles = spec.path("ValidationProfiles");
        if (!profiles.isArray() || profiles.size() != 1) {
            throw JobRequests.invalid("ValidationSpecification.ValidationProfiles must hold exactly one profile.");
        }
        JsonNode profile = profiles.get(0);
        JobRequests.string(profile, "ProfileName", 1, 63, AlgorithmSpecs.NAME, true);
        if (!profile.path("TrainingJobDefinition").isObject()) {
            throw JobRequests.invalid("The validation profile needs a TrainingJobDefinition.");
        }
        ObjectNode trainingJob = ProductValidation.validationTraining(name, "check", role, profile.path("TrainingJobDefinition"));
        requests.training(AlgorithmSpecs.apply(training, trainingJob, image.repository() + "@" + image.digest()));
        JsonNode transform = profile.path("TransformJobDefinition");
        if (!transform.isMissingNode() && !transform.isNull()) {
            if (inference.isMissingNode() || inference.isNull()) {
                throw JobRequests.invalid("A TransformJobDefinition validates the InferenceSpecification, which this algorithm does not have.");
            }
            ObjectNode t = ProductValidation.validationTransform("check", "check", transform);
            TransformRequest.parse(t, types);
            images.resolve(inference.path("Containers").path(0).path("Image").asText(), account);
        }
        roles.requirePassable(ctx, role);
    }

    // ---- use by training jobs ----

    /** Who may run other accounts' algorithms (set once, before the first request). */
    void entitlements(Entitlements entitlements) {
        this.entitlements = entitlements;
    }

    /** The entitlement under which {@code account} runs algorithm {@code r}, when it is another account's. */
    Optional<Entitlements.Entitlement> entitlement(String account, Resource r) {
        return r.accountId().equals(account) ? Optional.empty() : entitlements.entitlement(account, r.arn());
    }

    /**
     * The algorithm a training job names, when the job's account may use it: its own, in the
     * {@code Completed} state (or validating, for its own validation jobs).
     */
    Resource usable(String account, String region, String given, boolean validating) {
        String owner = owner(given, account);
        String name = name(given);
        if (!owner.equals(account) && entitlements.entitlement(account, InferenceService.arn(region, owner, Kind.ALGORITHM, name)).isEmpty()) {
            // Another account's algorithm exists for this caller only through a subscription: nothing else is said about it.
            throw JobRequests.invalid("Algorithm " + JobRequests.printable(given) + " is another account's; subscribe to its marketplace "
                    + "listing to use it.");
        }
        Resource r = resources.find(owner, Kind.ALGORITHM, name).orElseThrow(() -> JobRequests.invalid("Algorithm "
                + InferenceService.arn(region, owner, Kind.ALGORITHM, name) + " does not exist."));
        if (!validating && !r.status().equals("Completed")) {
            throw JobRequests.invalid("Algorithm " + r.arn() + " cannot be used: its status is " + r.status() + (r.status().equals("Failed")
                    ? " (" + r.failureReason().orElse("validation failed") + ")" : " (its validation has not finished)") + ".");
        }
        return r;
    }

    /** The training job to run for {@code request}, which names algorithm {@code r}. */
    ObjectNode jobRequest(Resource r, ObjectNode request) {
        ObjectNode body = resources.body(r);
        AlgorithmSpecs.Training spec = AlgorithmSpecs.training(body.path("TrainingSpecification"), types);
        JsonNode image = body.path("__image");
        return AlgorithmSpecs.apply(spec, request, image.path("repository").asText() + "@" + image.path("digest").asText());
    }

    /** The algorithm's training image, pinned when the algorithm was created. */
    JobImages.Resolved image(Resource r) {
        JsonNode image = resources.body(r).path("__image");
        String account = image.path("account").asText();
        String repository = image.path("repository").asText();
        return new JobImages.Resolved("arn:aws:ecr:" + r.arn().split(":")[3] + ":" + account + ":repository/" + repository, account, repository,
                image.path("digest").asText());
    }

    // ---- Describe, List, Delete ----

    JsonNode describe(RequestContext ctx, ObjectNode in) {
        String given = in.path("AlgorithmName").asText();
        Resource r = find(ctx, given);
        ObjectNode body = resources.body(r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("AlgorithmName", r.name()).put("AlgorithmArn", r.arn());
        if (body.hasNonNull("AlgorithmDescription")) {
            out.put("AlgorithmDescription", body.path("AlgorithmDescription").asText());
        }
        out.put("CreationTime", SageMakerService.seconds(r.createdAt()));
        ObjectNode training = body.path("TrainingSpecification").deepCopy();
        training.put("TrainingImageDigest", body.path("__image").path("digest").asText());
        out.set("TrainingSpecification", training);
        for (String member : List.of("InferenceSpecification", "ValidationSpecification")) {
            if (body.hasNonNull(member)) {
                out.set(member, body.get(member).deepCopy());
            }
        }
        out.put("AlgorithmStatus", r.status());
        ObjectNode details = out.putObject("AlgorithmStatusDetails");
        ArrayNode statuses = details.putArray("ValidationStatuses");
        JsonNode validation = body.path("__validation");
        if (body.hasNonNull("ValidationSpecification")) {
            ObjectNode s = statuses.addObject();
            s.put("Name", body.path("ValidationSpecification").path("ValidationProfiles").path(0).path("ProfileName").asText());
            s.put("Status", validation.path("status").asText("NotStarted"));
            if (validation.hasNonNull("failureReason")) {
                s.put("FailureReason", validation.path("failureReason").asText());
            }
        }
        List<ImageScanStatus.Scanned> scans = new java.util.ArrayList<>();
        scans.add(ImageScanStatus.scanned(images, ImageScanStatus.Image.of(body.path("__image"))));
        for (JsonNode c : body.path("InferenceSpecification").path("Containers")) {
            scans.add(ImageScanStatus.scanned(images, c.path("Image").asText(), r.accountId()));
        }
        details.set("ImageScanStatuses", ImageScanStatus.statuses(r.name(), scans));
        out.put("CertifyForMarketplace", body.path("CertifyForMarketplace").asBoolean(false));
        return out;
    }

    private Resource find(RequestContext ctx, String given) {
        String account = ctx.principal().account().value();
        String owner = owner(given, account);
        String name = name(given);
        return resources.find(owner, Kind.ALGORITHM, name).orElseThrow(() -> JobRequests.invalid("Algorithm "
                + InferenceService.arn(ctx.region(), owner, Kind.ALGORITHM, name) + " does not exist."));
    }

    JsonNode list(RequestContext ctx, ObjectNode in) {
        Listing<Resource> listing = new Listing<>(in, List.of(), List.of("Name", "CreationTime"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        listing.page(resources.list(ctx.principal().account().value(), Kind.ALGORITHM), r -> new Listing.Facts(r.name(), r.createdAt(),
                r.modifiedAt(), r.status()), out, "AlgorithmSummaryList", (r, s) -> {
                    s.put("AlgorithmName", r.name()).put("AlgorithmArn", r.arn());
                    ObjectNode body = resources.body(r);
                    if (body.hasNonNull("AlgorithmDescription")) {
                        s.put("AlgorithmDescription", body.path("AlgorithmDescription").asText());
                    }
                    s.put("CreationTime", SageMakerService.seconds(r.createdAt())).put("AlgorithmStatus", r.status());
                });
        return out;
    }

    JsonNode delete(RequestContext ctx, ObjectNode in) {
        String given = in.path("AlgorithmName").asText();
        String account = ctx.principal().account().value();
        if (!owner(given, account).equals(account)) {
            throw JobRequests.invalid("An algorithm is deleted by its own account.");
        }
        Resource r = find(ctx, given);
        resources.delete(account, Kind.ALGORITHM, r.name());
        return JsonNodeFactory.instance.objectNode();
    }

}
