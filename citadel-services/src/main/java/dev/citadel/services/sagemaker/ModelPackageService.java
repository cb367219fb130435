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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SageMaker's model packages and model package groups: CreateModelPackage, DescribeModelPackage,
 * ListModelPackages, UpdateModelPackage, DeleteModelPackage, and Create/Describe/List/Delete of
 * groups.
 *
 * <p>A model package is unversioned ({@code ModelPackageName}, the marketplace's kind) or a version
 * in a group ({@code ModelPackageGroupName}; versions are numbered from 1 and carry a
 * ModelApprovalStatus, the model registry's kind). Its InferenceSpecification's containers are
 * images of this registry, pinned to their digests at creation (a given ImageDigest must match),
 * with an optional ModelDataUrl; a SourceAlgorithmSpecification names a usable algorithm of the
 * account, whose inference containers serve the given ModelDataUrl when no InferenceSpecification
 * is given. A ValidationSpecification's transform job runs before the package is
 * {@code Completed} ({@link ProductValidation}); CertifyForMarketplace needs one. CreateModel
 * names a {@code Completed} package with a container's ModelPackageName.
 */
final class ModelPackageService {
    private static final Pattern ARN = Pattern.compile("arn:aws[a-z\\-]*:sagemaker:([a-z0-9\\-]+):(\\d{12}):model-package/(.+)");
    private static final Pattern GROUP_ARN = Pattern.compile("arn:aws[a-z\\-]*:sagemaker:([a-z0-9\\-]+):(\\d{12}):model-package-group/(.+)");
    private static final Pattern VERSIONED = Pattern.compile("([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(\\d{1,9})");
    private static final Set<String> APPROVALS = Set.of("Approved", "Rejected", "PendingManualApproval");

    private final Resources resources;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final InstanceTypes types;
    private final AlgorithmService algorithms;
    private final ProductValidation validation;
    private Entitlements entitlements = Entitlements.NONE;

    /** Who may run other accounts' model packages (set once, before the first request). */
    void entitlements(Entitlements entitlements) {
        this.entitlements = entitlements;
    }

    ModelPackageService(Resources resources, JobImages images, ExecutionRoles roles, InstanceTypes types, AlgorithmService algorithms,
            ProductValidation validation) {
        this.resources = resources;
        this.images = images;
        this.roles = roles;
        this.types = types;
        this.algorithms = algorithms;
        this.validation = validation;
    }

    List<Operation> operations() {
        return List.of(
                InferenceService.op("CreateModelPackage", false, created(), InferenceService::tagKeysOnly, this::create),
                InferenceService.op("DescribeModelPackage", true, packageArn("ModelPackageName"), null, this::describe),
                InferenceService.op("ListModelPackages", true, ResourceResolver.ALL, null, this::list),
                InferenceService.op("UpdateModelPackage", false, packageArn("ModelPackageArn"), null, this::update),
                InferenceService.op("DeleteModelPackage", false, packageArn("ModelPackageName"), null, this::delete),
                InferenceService.op("CreateModelPackageGroup", false, groupArn(), InferenceService::tagKeysOnly, this::createGroup),
                InferenceService.op("DescribeModelPackageGroup", true, groupArn(), null, this::describeGroup),
                InferenceService.op("ListModelPackageGroups", true, ResourceResolver.ALL, null, this::listGroups),
                InferenceService.op("DeleteModelPackageGroup", false, groupArn(), null, this::deleteGroup));
    }

    // ---- names and ARNs ----

    /** A package's stored name: its ModelPackageName, or {@code <group>/<version>} for a version. */
    private record Ref(String account, String name) {
    }

    private static Ref ref(String given, String caller) {
        Matcher m = ARN.matcher(given);
        String account = m.matches() ? m.group(2) : caller;
        String name = m.matches() ? m.group(3) : given;
        if (!AlgorithmSpecs.NAME.matcher(name).matches() && !VERSIONED.matcher(name).matches()) {
            throw JobRequests.invalid("1 validation error detected: Value " + JobRequests.printable(given) + " at 'modelPackageName' failed to "
                    + "satisfy constraint: Member must be a model package name or ARN.");
        }
        return new Ref(account, name);
    }

    private static ResourceResolver packageArn(String member) {
        return (ctx, in) -> {
            Ref r = ref(JobRequests.string(in, member, 1, 2048, null, true), ctx.principal().account().value());
            return List.of(InferenceService.arn(ctx.region(), r.account(), Kind.MODEL_PACKAGE, r.name()));
        };
    }

    static String groupName(String given) {
        Matcher m = GROUP_ARN.matcher(given);
        String name = m.matches() ? m.group(3) : given;
        if (!AlgorithmSpecs.NAME.matcher(name).matches()) {
            throw JobRequests.invalid("1 validation error detected: Value " + JobRequests.printable(given) + " at 'modelPackageGroupName' "
                    + "failed to satisfy constraint: Member must satisfy regular expression pattern: " + AlgorithmSpecs.NAME.pattern());
        }
        return name;
    }

    private static ResourceResolver groupArn() {
        return (ctx, in) -> List.of(InferenceService.arn(ctx.region(), ctx.principal().account().value(), Kind.MODEL_PACKAGE_GROUP,
                groupName(JobRequests.string(in, "ModelPackageGroupName", 1, 170, null, true))));
    }

    /** CreateModelPackage is authorized on the package's ARN (unversioned) or on its group's. */
    private static ResourceResolver created() {
        return (ctx, in) -> {
            String account = ctx.principal().account().value();
            if (in.hasNonNull("ModelPackageGroupName")) {
                return List.of(InferenceService.arn(ctx.region(), account, Kind.MODEL_PACKAGE_GROUP, groupName(in.path("ModelPackageGroupName")
                        .asText())));
            }
            return List.of(InferenceService.arn(ctx.region(), account, Kind.MODEL_PACKAGE, JobRequests.string(in, "ModelPackageName", 1, 63,
                    AlgorithmSpecs.NAME, true)));
        };
    }

    // ---- model packages ----

    JsonNode create(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        ModelPackageRequest req = ModelPackageRequest.parse(in, types);
        boolean versioned = req.versioned();
        String group = req.group().orElse(null);
        String unversioned = req.name().orElse(null);
        String approval = req.approval();
        ObjectNode body = in.deepCopy();
        JsonNode inference = in.path("InferenceSpecification");
        if (req.source().isPresent()) {
            inference = fromAlgorithm(ctx, account, req.source().get(), inference);
            body.set("__inference", inference);
        }
        ArrayNode pinned = checkInference(inference, account);
        body.set("__images", pinned);
        boolean validates = req.validates();
        if (validates) {
            roles.requirePassable(ctx, req.validationRole().orElseThrow());
        }
        Map<String, String> tags = req.tags();
        Instant now = resources.clock.instant();
        String status = validates ? "Pending" : "Completed";
        if (versioned) {
            resources.find(account, Kind.MODEL_PACKAGE_GROUP, group).orElseThrow(() -> JobRequests.invalid("Model package group " + group
                    + " does not exist."));
            body.put("ModelApprovalStatus", approval);
            for (int attempt = 0; ; attempt++) {
                int version = resources.list(account, Kind.MODEL_PACKAGE).stream().filter(r -> r.name().startsWith(group + "/"))
                        .mapToInt(r -> Integer.parseInt(r.name().substring(group.length() + 1))).max().orElse(0) + 1;
                String name = group + "/" + version;
                String arn = InferenceService.arn(ctx.region(), account, Kind.MODEL_PACKAGE, name);
                try {
                    resources.insert(new Resource(account, Kind.MODEL_PACKAGE, name, arn, status, Optional.empty(),
                            resources.seal(Kind.MODEL_PACKAGE, account, name, body), AlgorithmSpecs.tagJson(tags), now, now));
                    if (validates) {
                        validation.soon();
                    }
                    return JsonNodeFactory.instance.objectNode().put("ModelPackageArn", arn);
                } catch (DuplicateKeyException e) {
                    if (attempt >= 5) {
                        throw new AwsException("ConflictException", 400, "Versions of " + group + " are being created concurrently; retry.");
                    }
                }
            }
        }
        String arn = InferenceService.arn(ctx.region(), account, Kind.MODEL_PACKAGE, unversioned);
        try {
            resources.insert(new Resource(account, Kind.MODEL_PACKAGE, unversioned, arn, status, Optional.empty(),
                    resources.seal(Kind.MODEL_PACKAGE, account, unversioned, body), AlgorithmSpecs.tagJson(tags), now, now));
        } catch (DuplicateKeyException e) {
            throw JobRequests.invalid("Cannot create already existing model package \"" + arn + "\".");
        }
        if (validates) {
            validation.soon();
        }
        return JsonNodeFactory.instance.objectNode().put("ModelPackageArn", arn);
    }

    /** The containers of a package made from an algorithm: the algorithm's inference containers with the given artifact. */
    private JsonNode fromAlgorithm(RequestContext ctx, String account, ModelPackageRequest.SourceAlgorithm source, JsonNode given) {
        String url = source.modelDataUrl();
        Resource algorithm = algorithms.usable(account, ctx.region(), source.algorithmName(), false);
        if (!given.isMissingNode() && !given.isNull()) {
            return given;
        }
        JsonNode inference = resources.body(algorithm).path("InferenceSpecification");
        if (!inference.isObject()) {
            throw JobRequests.invalid("Algorithm " + algorithm.arn() + " has no InferenceSpecification; give one.");
        }
        ObjectNode derived = inference.deepCopy();
        for (JsonNode c : derived.path("Containers")) {
            ((ObjectNode) c).put("ModelDataUrl", url);
        }
        return derived;
    }

    /** Checks the specification and pins each container's image to its digest (a given ImageDigest must match). */
    private ArrayNode checkInference(JsonNode spec, String account) {
        ArrayNode pinned = JsonNodeFactory.instance.arrayNode();
        for (JsonNode c : AlgorithmSpecs.inference(spec, types)) {
            String image = c.path("Image").asText();
            String digest = c.path("ImageDigest").asText("");
            JobImages.Resolved resolved = images.resolve(image, account);
            if (!digest.isEmpty() && !digest.equals(resolved.digest())) {
                throw JobRequests.invalid("ImageDigest " + digest + " is not the digest of " + JobRequests.printable(image) + " ("
                        + resolved.digest() + ").");
            }
            pinned.addObject().put("repository", resolved.repository()).put("account", resolved.account()).put("digest", resolved.digest());
        }
        return pinned;
    }

    private Resource find(RequestContext ctx, String given) {
        Ref r = ref(given, ctx.principal().account().value());
        return resources.find(r.account(), Kind.MODEL_PACKAGE, r.name()).orElseThrow(() -> JobRequests.invalid("Model package "
                + JobRequests.printable(given) + " does not exist."));
    }

    JsonNode describe(RequestContext ctx, ObjectNode in) {
        Resource r = find(ctx, in.path("ModelPackageName").asText());
        ObjectNode body = resources.body(r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        Matcher v = VERSIONED.matcher(r.name());
        if (v.matches()) {
            out.put("ModelPackageName", v.group(1)).put("ModelPackageGroupName", v.group(1)).put("ModelPackageVersion",
                    Integer.parseInt(v.group(3)));
            out.put("ModelApprovalStatus", body.path("ModelApprovalStatus").asText());
            if (body.hasNonNull("ApprovalDescription")) {
                out.put("ApprovalDescription", body.path("ApprovalDescription").asText());
            }
        } else {
            out.put("ModelPackageName", r.name());
        }
        out.put("ModelPackageArn", r.arn());
        if (body.hasNonNull("ModelPackageDescription")) {
            out.put("ModelPackageDescription", body.path("ModelPackageDescription").asText());
        }
        out.put("CreationTime", SageMakerService.seconds(r.createdAt()));
        out.put("LastModifiedTime", SageMakerService.seconds(r.modifiedAt()));
        ObjectNode inference = (body.has("__inference") ? body.path("__inference") : body.path("InferenceSpecification")).deepCopy();
        int i = 0;
        for (JsonNode c : inference.path("Containers")) {
            ((ObjectNode) c).put("ImageDigest", body.path("__images").path(i++).path("digest").asText());
        }
        out.set("InferenceSpecification", inference);
        for (String member : List.of("SourceAlgorithmSpecification", "ValidationSpecification")) {
            if (body.hasNonNull(member)) {
                out.set(member, body.get(member).deepCopy());
            }
        }
        out.put("ModelPackageStatus", r.status());
        ObjectNode details = out.putObject("ModelPackageStatusDetails");
        ArrayNode statuses = details.putArray("ValidationStatuses");
        if (body.hasNonNull("ValidationSpecification")) {
            ObjectNode s = statuses.addObject();
            s.put("Name", body.path("ValidationSpecification").path("ValidationProfiles").path(0).path("ProfileName").asText());
            s.put("Status", body.path("__validation").path("status").asText("NotStarted"));
            if (body.path("__validation").hasNonNull("failureReason")) {
                s.put("FailureReason", body.path("__validation").path("failureReason").asText());
            }
        }
        List<ImageScanStatus.Scanned> scans = new java.util.ArrayList<>();
        body.path("__images").forEach(pinned -> scans.add(ImageScanStatus.scanned(images, ImageScanStatus.Image.of(pinned))));
        details.set("ImageScanStatuses", ImageScanStatus.statuses(v.matches() ? v.group(1) : r.name(), scans));
        out.put("CertifyForMarketplace", body.path("CertifyForMarketplace").asBoolean(false));
        return out;
    }

    JsonNode list(RequestContext ctx, ObjectNode in) {
        String group = in.hasNonNull("ModelPackageGroupName") ? groupName(in.path("ModelPackageGroupName").asText()) : null;
        String type = in.path("ModelPackageType").asText(group != null ? "Versioned" : "Unversioned");
        if (!Set.of("Versioned", "Unversioned", "Both").contains(type)) {
            throw JobRequests.invalid("ModelPackageType must be Versioned, Unversioned or Both.");
        }
        String approval = in.path("ModelApprovalStatus").asText("");
        if (!approval.isEmpty() && !APPROVALS.contains(approval)) {
            throw JobRequests.invalid("ModelApprovalStatus must be Approved, Rejected or PendingManualApproval.");
        }
        ObjectNode filtered = in.deepCopy();
        filtered.remove(List.of("ModelPackageGroupName", "ModelPackageType", "ModelApprovalStatus"));
        Listing<Resource> listing = new Listing<>(filtered, List.of(), List.of("Name", "CreationTime"));
        List<Resource> all = resources.list(ctx.principal().account().value(), Kind.MODEL_PACKAGE).stream().filter(r -> {
            Matcher v = VERSIONED.matcher(r.name());
            boolean isVersion = v.matches();
            if (type.equals("Versioned") && !isVersion || type.equals("Unversioned") && isVersion) {
                return false;
            }
            if (group != null && !(isVersion && v.group(1).equals(group))) {
                return false;
            }
            return approval.isEmpty() || isVersion && resources.body(r).path("ModelApprovalStatus").asText().equals(approval);
        }).toList();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        listing.page(all, r -> new Listing.Facts(r.name(), r.createdAt(), r.modifiedAt(), r.status()), out, "ModelPackageSummaryList",
                (r, s) -> {
                    ObjectNode body = resources.body(r);
                    Matcher v = VERSIONED.matcher(r.name());
                    if (v.matches()) {
                        s.put("ModelPackageName", v.group(1)).put("ModelPackageGroupName", v.group(1))
                                .put("ModelPackageVersion", Integer.parseInt(v.group(3)))
                                .put("ModelApprovalStatus", body.path("ModelApprovalStatus").asText());
                    } else {
                        s.put("ModelPackageName", r.name());
                    }
                    s.put("ModelPackageArn", r.arn());
                    if (body.hasNonNull("ModelPackageDescription")) {
                        s.put("ModelPackageDescription", body.path("ModelPackageDescription").asText());
                    }
                    s.put("CreationTime", SageMakerService.seconds(r.createdAt())).put("ModelPackageStatus", r.status());
                });
        return out;
    }

    JsonNode update(RequestContext ctx, ObjectNode in) {
        Resource r = find(ctx, JobRequests.string(in, "ModelPackageArn", 1, 2048, null, true));
        if (!r.accountId().equals(ctx.principal().account().value())) {
            throw JobRequests.invalid("A model package is updated by its own account.");
        }
        if (!VERSIONED.matcher(r.name()).matches()) {
            throw JobRequests.invalid("Only versioned model packages (in a group) have an approval status to update.");
        }
        String approval = in.path("ModelApprovalStatus").asText("");
        if (!approval.isEmpty() && !APPROVALS.contains(approval)) {
            throw JobRequests.invalid("ModelApprovalStatus must be Approved, Rejected or PendingManualApproval.");
        }
        String description = JobRequests.string(in, "ApprovalDescription", 0, 1024, null, false);
        resources.change(r.accountId(), Kind.MODEL_PACKAGE, r.name(), c -> {
            ObjectNode body = resources.body(c);
            if (!approval.isEmpty()) {
                body.put("ModelApprovalStatus", approval);
            }
            if (!description.isEmpty()) {
                body.put("ApprovalDescription", description);
            }
            return c.with(c.status(), c.failureReason(), resources.seal(Kind.MODEL_PACKAGE, c.accountId(), c.name(), body),
                    resources.clock.instant());
        });
        return JsonNodeFactory.instance.objectNode().put("ModelPackageArn", r.arn());
    }

    JsonNode delete(RequestContext ctx, ObjectNode in) {
        Resource r = find(ctx, in.path("ModelPackageName").asText());
        if (!r.accountId().equals(ctx.principal().account().value())) {
            throw JobRequests.invalid("A model package is deleted by its own account.");
        }
        resources.delete(r.accountId(), Kind.MODEL_PACKAGE, r.name());
        return JsonNodeFactory.instance.objectNode();
    }

    /**
     * The container a model runs for a container that names a model package: the package's image
     * (pinned), its ModelDataUrl, its Environment under the caller's. Only a {@code Completed}
     * package of the caller's account.
     */
    ObjectNode container(RequestContext ctx, JsonNode given) {
        String caller = ctx.principal().account().value();
        String named = JobRequests.string(given, "ModelPackageName", 1, 2048, null, true);
        Ref ref = ref(named, caller);
        Optional<Entitlements.Entitlement> bought = Optional.empty();
        if (!ref.account().equals(caller)) {
            // Another account's package exists for this caller only through a subscription: nothing else is said about it.
            bought = entitlements.entitlement(caller, InferenceService.arn(ctx.region(), ref.account(), Kind.MODEL_PACKAGE, ref.name()));
            if (bought.isEmpty()) {
                throw JobRequests.invalid("Model package " + JobRequests.printable(named) + " is another account's; subscribe to its "
                        + "marketplace listing to use it.");
            }
        }
        Resource r = find(ctx, named);
        if (!r.status().equals("Completed")) {
            throw JobRequests.invalid("Model package " + r.arn() + " cannot be used: its status is " + r.status() + ".");
        }
        ObjectNode body = resources.body(r);
        JsonNode first = (body.has("__inference") ? body.path("__inference") : body.path("InferenceSpecification")).path("Containers").path(0);
        JsonNode image = body.path("__images").path(0);
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("Image", first.path("Image").asText());
        if (first.hasNonNull("ModelDataUrl")) {
            c.put("ModelDataUrl", first.path("ModelDataUrl").asText());
        }
        ObjectNode env = c.putObject("Environment");
        first.path("Environment").properties().forEach(e -> env.set(e.getKey(), e.getValue()));
        given.path("Environment").properties().forEach(e -> env.set(e.getKey(), e.getValue()));
        c.putObject("__image").put("repository", image.path("repository").asText()).put("account", image.path("account").asText())
                .put("digest", image.path("digest").asText());
        c.put("__modelPackageArn", r.arn());
        bought.ifPresent(b -> c.putObject("__marketplace").put("listingId", b.listingId()).put("seller", b.sellerAccount())
                .put("productArn", b.productArn()));
        return c;
    }

    // ---- groups ----

    JsonNode createGroup(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = JobRequests.string(in, "ModelPackageGroupName", 1, 63, AlgorithmSpecs.NAME, true);
        JobRequests.string(in, "ModelPackageGroupDescription", 0, 1024, null, false);
        Map<String, String> tags = JobRequests.tags(in);
        String arn = InferenceService.arn(ctx.region(), account, Kind.MODEL_PACKAGE_GROUP, name);
        Instant now = resources.clock.instant();
        try {
            resources.insert(new Resource(account, Kind.MODEL_PACKAGE_GROUP, name, arn, "Completed", Optional.empty(),
                    resources.seal(Kind.MODEL_PACKAGE_GROUP, account, name, in.deepCopy()), AlgorithmSpecs.tagJson(tags), now, now));
        } catch (DuplicateKeyException e) {
            throw JobRequests.invalid("Model Package Group already exists: " + arn);
        }
        return JsonNodeFactory.instance.objectNode().put("ModelPackageGroupArn", arn);
    }

    private Resource group(RequestContext ctx, ObjectNode in) {
        String name = groupName(in.path("ModelPackageGroupName").asText());
        return resources.find(ctx.principal().account().value(), Kind.MODEL_PACKAGE_GROUP, name).orElseThrow(() -> JobRequests.invalid(
                "ModelPackageGroup " + name + " does not exist."));
    }

    JsonNode describeGroup(RequestContext ctx, ObjectNode in) {
        Resource r = group(ctx, in);
        ObjectNode body = resources.body(r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("ModelPackageGroupName", r.name()).put("ModelPackageGroupArn", r.arn());
        if (body.hasNonNull("ModelPackageGroupDescription")) {
            out.put("ModelPackageGroupDescription", body.path("ModelPackageGroupDescription").asText());
        }
        out.put("CreationTime", SageMakerService.seconds(r.createdAt())).put("ModelPackageGroupStatus", r.status());
        return out;
    }

    JsonNode listGroups(RequestContext ctx, ObjectNode in) {
        Listing<Resource> listing = new Listing<>(in, List.of(), List.of("Name", "CreationTime"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        listing.page(resources.list(ctx.principal().account().value(), Kind.MODEL_PACKAGE_GROUP), r -> new Listing.Facts(r.name(),
                r.createdAt(), r.modifiedAt(), r.status()), out, "ModelPackageGroupSummaryList", (r, s) -> {
                    ObjectNode body = resources.body(r);
                    s.put("ModelPackageGroupName", r.name()).put("ModelPackageGroupArn", r.arn());
                    if (body.hasNonNull("ModelPackageGroupDescription")) {
                        s.put("ModelPackageGroupDescription", body.path("ModelPackageGroupDescription").asText());
                    }
                    s.put("CreationTime", SageMakerService.seconds(r.createdAt())).put("ModelPackageGroupStatus", r.status());
                });
        return out;
    }

    JsonNode deleteGroup(RequestContext ctx, ObjectNode in) {
        Resource r = group(ctx, in);
        if (resources.list(r.accountId(), Kind.MODEL_PACKAGE).stream().anyMatch(p -> p.name().startsWith(r.name() + "/"))) {
            throw new AwsException("ConflictException", 400, "Model package group " + r.name() + " still has model packages; delete them "
                    + "first.");
        }
        resources.delete(r.accountId(), Kind.MODEL_PACKAGE_GROUP, r.name());
        return JsonNodeFactory.instance.objectNode();
    }
}
