package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.services.kms.KmsKeys;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * SageMaker's models and endpoint configurations (awsJson1_1, {@code SageMaker}): Create,
 * Describe, List and Delete of each. A model names an image of this registry (its digest pinned
 * at creation), an optional model artifact in S3 and the execution role the caller must be allowed
 * to pass; an endpoint configuration names models, instance types and weights per variant. Both
 * are validated whole before anything is stored; a model's body is sealed (its Environment may
 * hold secrets).
 */
final class InferenceService {
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?");
    private static final Pattern VARIANT = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,1023}");
    private static final Pattern CONTENT_TYPE = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9])*/[a-zA-Z0-9](-*[a-zA-Z0-9.])*");
    private static final String NOT_FOUND_MODEL = "Could not find model \"%s\".";

    private final Resources resources;
    private final KmsKeys keys;
    private final JobImages images;
    private final ExecutionRoles roles;
    private final InstanceTypes types;

    private ModelPackageService packages;

    /** The model packages a model's container may name (set once, before the first request). */
    void packages(ModelPackageService packages) {
        this.packages = packages;
    }

    InferenceService(Resources resources, KmsKeys keys, JobImages images, ExecutionRoles roles, InstanceTypes types) {
        this.resources = resources;
        this.keys = keys;
        this.images = images;
        this.roles = roles;
        this.types = types;
    }

    List<Operation> operations() {
        return List.of(
                op("CreateModel", false, named(Kind.MODEL, "ModelName"), this::createModelKeys, this::createModel),
                op("DescribeModel", true, named(Kind.MODEL, "ModelName"), null, (c, i) -> describe(c, i, Kind.MODEL)),
                op("ListModels", true, ResourceResolver.ALL, null, (c, i) -> list(c, i, Kind.MODEL)),
                op("DeleteModel", false, named(Kind.MODEL, "ModelName"), null, (c, i) -> delete(c, i, Kind.MODEL)),
                op("CreateEndpointConfig", false, named(Kind.ENDPOINT_CONFIG, "EndpointConfigName"), this::createConfigKeys,
                        this::createEndpointConfig),
                op("DescribeEndpointConfig", true, named(Kind.ENDPOINT_CONFIG, "EndpointConfigName"), null,
                        (c, i) -> describe(c, i, Kind.ENDPOINT_CONFIG)),
                op("ListEndpointConfigs", true, ResourceResolver.ALL, null, (c, i) -> list(c, i, Kind.ENDPOINT_CONFIG)),
                op("DeleteEndpointConfig", false, named(Kind.ENDPOINT_CONFIG, "EndpointConfigName"), null,
                        (c, i) -> delete(c, i, Kind.ENDPOINT_CONFIG)));
    }

    static Operation op(String name, boolean readOnly, ResourceResolver resolver, dev.citadel.pipeline.spec.ConditionKeyResolver keys,
            Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("sagemaker", name).resources(resolver).maxBodyBytes(256 * 1024);
        if (keys != null) {
            b.conditionKeys(keys);
        }
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    static ResourceResolver named(Kind kind, String member) {
        return (ctx, in) -> List.of(arn(ctx.region(), ctx.principal().account().value(), kind,
                JobRequests.string(in, member, 1, 63, NAME, true)));
    }

    static String arn(String region, String account, Kind kind, String name) {
        String type = switch (kind) {
            case MODEL -> "model/";
            case ENDPOINT_CONFIG -> "endpoint-config/";
            case ENDPOINT -> "endpoint/";
            case ALGORITHM -> "algorithm/";
            case MODEL_PACKAGE -> "model-package/";
            case MODEL_PACKAGE_GROUP -> "model-package-group/";
        };
        return "arn:aws:sagemaker:" + region + ":" + account + ":" + type + name.toLowerCase(Locale.ROOT);
    }

    // ---- models ----

    private Map<String, List<String>> createModelKeys(RequestContext ctx, ObjectNode in) {
        Map<String, List<String>> out = new HashMap<>();
        out.put("sagemaker:NetworkIsolation", List.of(Boolean.toString(in.path("EnableNetworkIsolation").asBoolean(false))));
        tagKeys(in, out);
        return out;
    }

    JsonNode createModel(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = JobRequests.string(in, "ModelName", 1, 63, NAME, true);
        JsonNode primary = in.path("PrimaryContainer");
        JsonNode containers = in.path("Containers");
        if (primary.isMissingNode() == containers.isMissingNode()) {
            throw JobRequests.invalid("A model needs exactly one of PrimaryContainer and Containers.");
        }
        if (!containers.isMissingNode() && (!containers.isArray() || containers.size() != 1)) {
            throw JobRequests.invalid("Containers with more than one container (a serial inference pipeline) is not supported yet; give one.");
        }
        JsonNode container = primary.isMissingNode() ? containers.get(0) : primary;
        if (!container.isObject()) {
            throw JobRequests.invalid("PrimaryContainer must be a structure.");
        }
        ObjectNode fromPackage = null;
        if (container.has("ModelPackageName")) {
            if (container.has("Image") || container.has("ModelDataUrl")) {
                throw JobRequests.invalid("A container that names a ModelPackageName takes its Image and ModelDataUrl from the package; "
                        + "give neither.");
            }
            fromPackage = packages.container(ctx, container);
        }
        if (!container.path("Mode").asText("SingleModel").equals("SingleModel")) {
            throw JobRequests.invalid("Mode MultiModel is not supported: a container serves one model.");
        }
        if (container.path("ImageConfig").path("RepositoryAccessMode").asText("Platform").equals("Vpc")) {
            throw JobRequests.invalid("ImageConfig RepositoryAccessMode Vpc is not supported: images come from this Citadel's registry.");
        }
        JsonNode runs = fromPackage != null ? fromPackage : container;
        String image = JobRequests.string(runs, "Image", 1, 255, null, true);
        String dataUrl = JobRequests.string(runs, "ModelDataUrl", 1, 1024, null, false);
        if (!dataUrl.isEmpty() && !JobRequests.S3_URI.matcher(dataUrl).matches()) {
            throw JobRequests.invalid("ModelDataUrl " + JobRequests.printable(dataUrl) + " must be an S3 URI, s3://bucket/key.");
        }
        if (!dataUrl.isEmpty() && !dataUrl.startsWith("s3://")) {
            throw JobRequests.invalid("ModelDataUrl must be an s3:// URI.");
        }
        if (container.has("ModelDataSource")) {
            throw JobRequests.invalid("ModelDataSource (uncompressed model data) is not supported yet; give ModelDataUrl.");
        }
        checkEnvironment(container.path("Environment"));
        if (in.hasNonNull("VpcConfig")) {
            throw JobRequests.invalid("VpcConfig is not supported: Citadel has no networks to attach a model to, and every container runs "
                    + "without network access.");
        }
        if (in.has("EnableNetworkIsolation") && !in.path("EnableNetworkIsolation").isBoolean()) {
            throw JobRequests.invalid("EnableNetworkIsolation must be a boolean.");
        }
        String role = JobRequests.string(in, "ExecutionRoleArn", 20, 2048, JobRequests.ROLE_ARN, true);
        Map<String, String> tags = JobRequests.tags(in);
        String arn = arn(ctx.region(), account, Kind.MODEL, name);
        if (resources.find(account, Kind.MODEL, name).isPresent()) {
            throw exists("model", arn);
        }
        roles.requirePassable(ctx, role);
        ObjectNode body = in.deepCopy();
        if (fromPackage != null) {
            // The package's image stays pinned to the digest it was created with; Describe shows the container as given.
            body.set("__image", fromPackage.remove("__image"));
            JsonNode market = fromPackage.remove("__marketplace");
            if (market != null) {
                // A marketplace product always runs isolated, whatever the request says.
                body.set("__marketplace", market);
                body.put("EnableNetworkIsolation", true);
            }
            body.set("__container", fromPackage);
        } else {
            JobImages.Resolved resolved = images.resolve(image, account);
            body.putObject("__image").put("repository", resolved.repository()).put("account", resolved.account()).put("digest",
                    resolved.digest());
        }
        insert(account, Kind.MODEL, name, arn, body, tags);
        return JsonNodeFactory.instance.objectNode().put("ModelArn", arn);
    }

    /** A container's Environment: at most 100 entries, keys [a-zA-Z_][a-zA-Z0-9_]*, values strings of at most 1024 characters. */
    static void checkEnvironment(JsonNode env) {
        if (env.isMissingNode() || env.isNull()) {
            return;
        }
        if (!env.isObject() || env.size() > 100) {
            throw JobRequests.invalid("Environment must be a map of at most 100 entries.");
        }
        for (var e : env.properties()) {
            if (!ENV_KEY.matcher(e.getKey()).matches()) {
                throw JobRequests.invalid("Environment has a key that is not of the form [a-zA-Z_][a-zA-Z0-9_]* (at most 1024 characters).");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().length() > 1024) {
                throw JobRequests.invalid("Environment[" + JobRequests.printable(e.getKey()) + "] must be a string of at most 1024 characters.");
            }
        }
    }

    // ---- endpoint configurations ----

    private Map<String, List<String>> createConfigKeys(RequestContext ctx, ObjectNode in) {
        Map<String, List<String>> out = new HashMap<>();
        List<String> instanceTypes = new ArrayList<>();
        List<String> models = new ArrayList<>();
        for (JsonNode v : in.path("ProductionVariants")) {
            if (v.path("InstanceType").isTextual()) {
                instanceTypes.add(v.path("InstanceType").asText());
            }
            if (v.path("ModelName").isTextual()) {
                models.add(arn(ctx.region(), ctx.principal().account().value(), Kind.MODEL, v.path("ModelName").asText()));
            }
        }
        out.put("sagemaker:InstanceTypes", instanceTypes);
        out.put("sagemaker:ModelArn", models);
        if (in.path("KmsKeyId").isTextual()) {
            String key = keyArn(ctx.principal().account().value(), in.path("KmsKeyId").asText());
            out.put("sagemaker:VolumeKmsKey", List.of(key));
        }
        tagKeys(in, out);
        return out;
    }

    JsonNode createEndpointConfig(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = JobRequests.string(in, "EndpointConfigName", 1, 63, NAME, true);
        JsonNode variants = in.path("ProductionVariants");
        if (!variants.isArray() || variants.isEmpty() || variants.size() > 10) {
            throw JobRequests.invalid("ProductionVariants must list 1 to 10 variants.");
        }
        Set<String> names = new HashSet<>();
        for (JsonNode v : variants) {
            String variant = JobRequests.string(v, "VariantName", 1, 63, VARIANT, true);
            if (!names.add(variant)) {
                throw JobRequests.invalid("Variant names must be unique: " + variant + " appears twice.");
            }
            String model = JobRequests.string(v, "ModelName", 1, 63, NAME, true);
            if (resources.find(account, Kind.MODEL, model).isEmpty()) {
                throw JobRequests.invalid(String.format(NOT_FOUND_MODEL, model));
            }
            if (v.has("ServerlessConfig")) {
                throw JobRequests.invalid("Variant " + variant + ": ServerlessConfig is not supported; give InstanceType and InitialInstanceCount.");
            }
            if (v.has("AcceleratorType")) {
                throw JobRequests.invalid("Variant " + variant + ": AcceleratorType (Elastic Inference) is not supported.");
            }
            String type = JobRequests.string(v, "InstanceType", 1, 64, null, true);
            if (types.profile(type).isEmpty()) {
                throw JobRequests.invalid("Instance type " + JobRequests.printable(type) + " is not offered here; offered: "
                        + String.join(", ", types.names()) + ".");
            }
            JsonNode count = v.path("InitialInstanceCount");
            if (!count.isIntegralNumber() || count.asInt() < 1 || count.asInt() > 10) {
                throw JobRequests.invalid("Variant " + variant + ": InitialInstanceCount must be between 1 and 10.");
            }
            JsonNode weight = v.path("InitialVariantWeight");
            if (!weight.isMissingNode() && (!weight.isNumber() || weight.asDouble() < 0 || weight.asDouble() > 1000)) {
                throw JobRequests.invalid("Variant " + variant + ": InitialVariantWeight must be a number between 0 and 1000.");
            }
        }
        double total = 0;
        for (JsonNode v : variants) {
            total += v.path("InitialVariantWeight").asDouble(1.0);
        }
        if (total <= 0) {
            throw JobRequests.invalid("The variants' weights add up to 0: at least one variant must receive traffic.");
        }
        Optional<String> kmsKey = in.path("KmsKeyId").isTextual() ? Optional.of(in.path("KmsKeyId").asText()) : Optional.empty();
        kmsKey.ifPresent(k -> requireKey(account, k, "KmsKeyId"));
        JsonNode capture = in.path("DataCaptureConfig");
        if (!capture.isMissingNode()) {
            checkCapture(account, capture);
        }
        for (String refused : List.of("AsyncInferenceConfig", "ExplainerConfig", "ShadowProductionVariants", "VpcConfig")) {
            if (in.hasNonNull(refused)) {
                throw JobRequests.invalid(refused + " is not supported yet.");
            }
        }
        Map<String, String> tags = JobRequests.tags(in);
        String arn = arn(ctx.region(), account, Kind.ENDPOINT_CONFIG, name);
        if (resources.find(account, Kind.ENDPOINT_CONFIG, name).isPresent()) {
            throw exists("endpoint configuration", arn);
        }
        insert(account, Kind.ENDPOINT_CONFIG, name, arn, in.deepCopy(), tags);
        return JsonNodeFactory.instance.objectNode().put("EndpointConfigArn", arn);
    }

    private void checkCapture(String account, JsonNode capture) {
        if (!capture.isObject()) {
            throw JobRequests.invalid("DataCaptureConfig must be a structure.");
        }
        if (capture.has("EnableCapture") && !capture.path("EnableCapture").isBoolean()) {
            throw JobRequests.invalid("DataCaptureConfig.EnableCapture must be a boolean.");
        }
        JsonNode pct = capture.path("InitialSamplingPercentage");
        if (!pct.isIntegralNumber() || pct.asInt() < 0 || pct.asInt() > 100) {
            throw JobRequests.invalid("DataCaptureConfig.InitialSamplingPercentage must be between 0 and 100.");
        }
        String uri = JobRequests.string(capture, "DestinationS3Uri", 1, 512, null, true);
        if (!uri.startsWith("s3://") || !JobRequests.S3_URI.matcher(uri).matches()) {
            throw JobRequests.invalid("DataCaptureConfig.DestinationS3Uri must be an s3:// URI.");
        }
        JsonNode options = capture.path("CaptureOptions");
        if (!options.isArray() || options.isEmpty() || options.size() > 32) {
            throw JobRequests.invalid("DataCaptureConfig.CaptureOptions must list 1 to 32 capture modes.");
        }
        for (JsonNode o : options) {
            String mode = o.path("CaptureMode").asText("");
            if (!mode.equals("Input") && !mode.equals("Output") && !mode.equals("InputAndOutput")) {
                throw JobRequests.invalid("CaptureMode must be Input, Output or InputAndOutput.");
            }
        }
        JsonNode header = capture.path("CaptureContentTypeHeader");
        if (!header.isMissingNode()) {
            if (!header.isObject()) {
                throw JobRequests.invalid("DataCaptureConfig.CaptureContentTypeHeader must be a structure.");
            }
            for (String member : List.of("CsvContentTypes", "JsonContentTypes")) {
                JsonNode types = header.path(member);
                if (types.isMissingNode()) {
                    continue;
                }
                if (!types.isArray() || types.isEmpty() || types.size() > 10) {
                    throw JobRequests.invalid("CaptureContentTypeHeader." + member + " must list 1 to 10 content types.");
                }
                for (JsonNode t : types) {
                    if (!t.isTextual() || t.asText().length() > 256 || !CONTENT_TYPE.matcher(t.asText()).matches()) {
                        throw JobRequests.invalid("CaptureContentTypeHeader." + member + " holds a value that is not a content type "
                                + "such as text/csv.");
                    }
                }
            }
        }
        if (capture.has("KmsKeyId")) {
            if (!capture.path("KmsKeyId").isTextual()) {
                throw JobRequests.invalid("DataCaptureConfig.KmsKeyId must be a string.");
            }
            requireKey(account, capture.path("KmsKeyId").asText(), "DataCaptureConfig.KmsKeyId");
        }
    }

    // ---- shared ----

    private void insert(String account, Kind kind, String name, String arn, ObjectNode body, Map<String, String> tags) {
        ObjectNode tagJson = JsonNodeFactory.instance.objectNode();
        tags.forEach(tagJson::put);
        java.time.Instant now = resources.clock.instant();
        try {
            resources.insert(new Resource(account, kind, name, arn, "Active", Optional.empty(), resources.seal(kind, account, name, body),
                    tagJson.toString(), now, now));
        } catch (DuplicateKeyException e) {
            throw exists(kind == Kind.MODEL ? "model" : "endpoint configuration", arn);
        }
    }

    private static AwsException exists(String what, String arn) {
        return JobRequests.invalid("Cannot create already existing " + what + " \"" + arn + "\".");
    }

    JsonNode describe(RequestContext ctx, ObjectNode in, Kind kind) {
        String member = kind == Kind.MODEL ? "ModelName" : "EndpointConfigName";
        String name = in.path(member).asText();
        Resource r = resources.find(ctx.principal().account().value(), kind, name).orElseThrow(() -> notFound(kind, name, ctx));
        ObjectNode body = resources.body(r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (kind == Kind.MODEL) {
            out.put("ModelName", r.name());
            copy(body, out, "PrimaryContainer");
            copy(body, out, "Containers");
            out.put("ExecutionRoleArn", body.path("ExecutionRoleArn").asText());
            out.put("CreationTime", SageMakerService.seconds(r.createdAt()));
            out.put("ModelArn", r.arn());
            out.put("EnableNetworkIsolation", body.path("EnableNetworkIsolation").asBoolean(false));
        } else {
            out.put("EndpointConfigName", r.name());
            out.put("EndpointConfigArn", r.arn());
            com.fasterxml.jackson.databind.node.ArrayNode variants = out.putArray("ProductionVariants");
            for (JsonNode v : body.path("ProductionVariants")) {
                ObjectNode copy = v.deepCopy();
                copy.put("InitialVariantWeight", v.path("InitialVariantWeight").asDouble(1.0));
                variants.add(copy);
            }
            copy(body, out, "DataCaptureConfig");
            copy(body, out, "KmsKeyId");
            out.put("CreationTime", SageMakerService.seconds(r.createdAt()));
        }
        return out;
    }

    JsonNode list(RequestContext ctx, ObjectNode in, Kind kind) {
        Listing<Resource> listing = new Listing<>(in, List.of(), List.of("Name", "CreationTime"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        boolean model = kind == Kind.MODEL;
        listing.page(resources.list(ctx.principal().account().value(), kind), r -> new Listing.Facts(r.name(), r.createdAt(), r.modifiedAt(),
                r.status()), out, model ? "Models" : "EndpointConfigs", (r, s) -> {
                    s.put(model ? "ModelName" : "EndpointConfigName", r.name());
                    s.put(model ? "ModelArn" : "EndpointConfigArn", r.arn());
                    s.put("CreationTime", SageMakerService.seconds(r.createdAt()));
                });
        return out;
    }

    JsonNode delete(RequestContext ctx, ObjectNode in, Kind kind) {
        String name = in.path(kind == Kind.MODEL ? "ModelName" : "EndpointConfigName").asText();
        if (!resources.delete(ctx.principal().account().value(), kind, name)) {
            throw notFound(kind, name, ctx);
        }
        return JsonNodeFactory.instance.objectNode();
    }

    static AwsException notFound(Kind kind, String name, RequestContext ctx) {
        return switch (kind) {
            case MODEL -> JobRequests.invalid(String.format(NOT_FOUND_MODEL, name));
            case ENDPOINT_CONFIG -> JobRequests.invalid("Could not find endpoint configuration \"" + name + "\".");
            case ENDPOINT -> JobRequests.invalid("Could not find endpoint \"" + arn(ctx.region(), ctx.principal().account().value(),
                    Kind.ENDPOINT, name) + "\".");
            case ALGORITHM -> JobRequests.invalid("Algorithm " + arn(ctx.region(), ctx.principal().account().value(), Kind.ALGORITHM, name)
                    + " does not exist.");
            case MODEL_PACKAGE, MODEL_PACKAGE_GROUP -> JobRequests.invalid("Model package " + JobRequests.printable(name) + " does not exist.");
        };
    }

    private static void copy(JsonNode from, ObjectNode to, String member) {
        if (from.hasNonNull(member)) {
            to.set(member, from.get(member).deepCopy());
        }
    }

    private void requireKey(String account, String keyId, String member) {
        Optional<dev.citadel.metadata.kms.KmsRepository.Key> key;
        try {
            key = keys.resolve(account, keyId);
        } catch (RuntimeException e) {
            key = Optional.empty();
        }
        if (key.isEmpty() || !key.get().state().equals("Enabled")) {
            throw JobRequests.invalid(member + " " + JobRequests.printable(keyId) + " does not name an enabled KMS key of account " + account
                    + ".");
        }
    }

    private String keyArn(String account, String keyId) {
        try {
            return keys.resolve(account, keyId).map(k -> k.arn()).orElse(keyId);
        } catch (RuntimeException e) {
            return keyId;
        }
    }

    /** The condition keys of a Create* whose only keys are its tags (aws:RequestTag/*, aws:TagKeys). */
    static Map<String, List<String>> tagKeysOnly(RequestContext ctx, ObjectNode in) {
        Map<String, List<String>> out = new HashMap<>();
        tagKeys(in, out);
        return out;
    }

    static void tagKeys(ObjectNode in, Map<String, List<String>> out) {
        JsonNode tags = in.path("Tags");
        if (tags.isArray()) {
            List<String> tagKeys = new ArrayList<>();
            for (JsonNode t : tags) {
                if (t.path("Key").isTextual()) {
                    tagKeys.add(t.path("Key").asText());
                    out.put("aws:RequestTag/" + t.path("Key").asText(), List.of(t.path("Value").asText("")));
                }
            }
            out.put("aws:TagKeys", tagKeys);
        }
    }
}
