package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.sandbox.ContainerHttp;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * SageMaker's endpoints (CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
 * DeleteEndpoint) and SageMaker Runtime's InvokeEndpoint (restJson1, {@code POST
 * /endpoints/{name}/invocations}). The state lives in the store; {@link EndpointManager} runs the
 * containers; {@link DataCapture} records the invocations an endpoint's DataCaptureConfig samples.
 */
final class EndpointService {
    /** SageMaker Runtime: signed as {@code sagemaker}, REST routes, SageMaker's actions and event source. */
    static final ServiceDefinition RUNTIME = new ServiceDefinition("sagemaker-runtime", "sagemaker", "sagemaker", Protocol.REST_JSON_1, "",
            "2017-05-13", "", "sagemaker.amazonaws.com", false);
    static final long MAX_PAYLOAD = 6L << 20;
    private static final java.util.regex.Pattern HEADER_VALUE = java.util.regex.Pattern.compile("[\\x20-\\x7e]{0,1024}");

    private final Resources resources;
    private final EndpointManager manager;
    private final DataCapture capture;

    EndpointService(Resources resources, EndpointManager manager, DataCapture capture) {
        this.resources = resources;
        this.manager = manager;
        this.capture = capture;
    }

    List<Operation> operations() {
        ResourceResolver endpoint = InferenceService.named(Kind.ENDPOINT, "EndpointName");
        return List.of(
                InferenceService.op("CreateEndpoint", false, endpoint, (c, i) -> {
                    Map<String, List<String>> keys = new java.util.HashMap<>();
                    InferenceService.tagKeys(i, keys);
                    return keys;
                }, this::create),
                InferenceService.op("DescribeEndpoint", true, endpoint, null, this::describe),
                InferenceService.op("ListEndpoints", true, ResourceResolver.ALL, null, this::list),
                InferenceService.op("UpdateEndpoint", false, endpoint, null, this::update),
                InferenceService.op("DeleteEndpoint", false, endpoint, null, this::delete));
    }

    List<Operation> runtimeOperations() {
        return List.of(Operation.of(OperationSpec.builder("sagemaker-runtime", "InvokeEndpoint").action("sagemaker:InvokeEndpoint")
                .resources((ctx, in) -> List.of(InferenceService.arn(ctx.region(), ctx.principal().account().value(), Kind.ENDPOINT,
                        in.path("EndpointName").asText(""))))
                .maxBodyBytes(MAX_PAYLOAD).dataEvent().sensitive("CustomAttributes").build(), this::invoke));
    }

    JsonNode create(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = JobRequests.string(in, "EndpointName", 1, 63, InferenceService.NAME, true);
        String config = JobRequests.string(in, "EndpointConfigName", 1, 63, InferenceService.NAME, true);
        if (in.has("DeploymentConfig")) {
            throw JobRequests.invalid("DeploymentConfig is not supported yet: updates move all traffic at once, after every new container "
                    + "is healthy.");
        }
        Map<String, String> tags = JobRequests.tags(in);
        if (resources.find(account, Kind.ENDPOINT_CONFIG, config).isEmpty()) {
            throw JobRequests.invalid("Could not find endpoint configuration \"" + config + "\".");
        }
        String arn = InferenceService.arn(ctx.region(), account, Kind.ENDPOINT, name);
        if (resources.find(account, Kind.ENDPOINT, name).isPresent()) {
            throw JobRequests.invalid("Cannot create already existing endpoint \"" + arn + "\".");
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("EndpointConfigName", config);
        ObjectNode tagJson = JsonNodeFactory.instance.objectNode();
        tags.forEach(tagJson::put);
        java.time.Instant now = resources.clock.instant();
        try {
            resources.insert(new Resource(account, Kind.ENDPOINT, name, arn, "Creating", Optional.empty(),
                    resources.seal(Kind.ENDPOINT, account, name, body), tagJson.toString(), now, now));
        } catch (DuplicateKeyException e) {
            throw JobRequests.invalid("Cannot create already existing endpoint \"" + arn + "\".");
        }
        Thread.ofPlatform().daemon().start(() -> manager.deploy(account, name, config, "Creating"));
        return JsonNodeFactory.instance.objectNode().put("EndpointArn", arn);
    }

    JsonNode update(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = in.path("EndpointName").asText();
        String config = JobRequests.string(in, "EndpointConfigName", 1, 63, InferenceService.NAME, true);
        for (String refused : List.of("DeploymentConfig", "ExcludeRetainedVariantProperties", "RetainAllVariantProperties")) {
            if (in.hasNonNull(refused) && !(in.get(refused).isBoolean() && !in.get(refused).asBoolean())) {
                throw JobRequests.invalid(refused + " is not supported yet.");
            }
        }
        Resource r = resources.find(account, Kind.ENDPOINT, name).orElseThrow(() -> InferenceService.notFound(Kind.ENDPOINT, name, ctx));
        if (resources.find(account, Kind.ENDPOINT_CONFIG, config).isEmpty()) {
            throw JobRequests.invalid("Could not find endpoint configuration \"" + config + "\".");
        }
        Optional<Resource> moved = resources.change(account, Kind.ENDPOINT, name, e -> {
            if (!e.status().equals("InService")) {
                return null;
            }
            ObjectNode body = resources.body(e);
            body.put("PendingEndpointConfigName", config);
            return e.with("Updating", Optional.empty(), resources.seal(Kind.ENDPOINT, account, name, body), resources.clock.instant());
        });
        if (moved.isEmpty()) {
            throw JobRequests.invalid("Cannot update in-progress endpoint \"" + r.arn() + "\".");
        }
        Thread.ofPlatform().daemon().start(() -> manager.deploy(account, name, config, "Updating"));
        return JsonNodeFactory.instance.objectNode().put("EndpointArn", r.arn());
    }

    JsonNode delete(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = in.path("EndpointName").asText();
        Optional<Resource> moved = resources.change(account, Kind.ENDPOINT, name, e -> e.status().equals("Deleting") ? null
                : e.with("Deleting", e.failureReason(), e.bodySealed(), resources.clock.instant()));
        if (moved.isEmpty()) {
            Resource r = resources.find(account, Kind.ENDPOINT, name).orElseThrow(() -> InferenceService.notFound(Kind.ENDPOINT, name, ctx));
            if (!r.status().equals("Deleting")) {
                throw JobRequests.invalid("Cannot delete endpoint \"" + r.arn() + "\" now.");
            }
        } else {
            // before finishDelete can start, so that it always ends the withdrawal
            manager.withdraw(account, name);
        }
        Thread.ofPlatform().daemon().start(() -> manager.finishDelete(account, name));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode describe(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = in.path("EndpointName").asText();
        Resource r = resources.find(account, Kind.ENDPOINT, name).orElseThrow(() -> InferenceService.notFound(Kind.ENDPOINT, name, ctx));
        ObjectNode body = resources.body(r);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("EndpointName", r.name()).put("EndpointArn", r.arn()).put("EndpointConfigName", body.path("EndpointConfigName").asText());
        Optional<EndpointManager.Deployment> d = manager.deployment(account, name);
        if (d.isPresent()) {
            double total = d.get().variants().stream().mapToDouble(v -> v.weight).sum();
            ArrayNode variants = out.putArray("ProductionVariants");
            for (EndpointManager.Variant v : d.get().variants()) {
                ObjectNode n = variants.addObject();
                n.put("VariantName", v.name);
                n.put("CurrentWeight", v.weight).put("DesiredWeight", v.weight);
                n.put("CurrentInstanceCount", v.instances.size()).put("DesiredInstanceCount", v.count);
                n.putArray("DeployedImages");
            }
            if (total <= 0) {
                out.remove("ProductionVariants");
            }
        }
        Optional<CaptureConfig> captureConfig = d.isPresent() ? d.get().capture() : resources.find(account, Kind.ENDPOINT_CONFIG,
                body.path("EndpointConfigName").asText()).flatMap(c -> CaptureConfig.of(resources.body(c)));
        captureConfig.ifPresent(c -> out.set("DataCaptureConfig", c.summary(d.isPresent())));
        out.put("EndpointStatus", r.status());
        r.failureReason().ifPresent(f -> out.put("FailureReason", f));
        out.put("CreationTime", SageMakerService.seconds(r.createdAt()));
        out.put("LastModifiedTime", SageMakerService.seconds(r.modifiedAt()));
        return out;
    }

    JsonNode list(RequestContext ctx, ObjectNode in) {
        Listing<Resource> listing = new Listing<>(in, List.of("OutOfService", "Creating", "Updating", "SystemUpdating", "RollingBack",
                "InService", "Deleting", "Failed"), List.of("Name", "CreationTime", "Status"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        listing.page(resources.list(ctx.principal().account().value(), Kind.ENDPOINT), r -> new Listing.Facts(r.name(), r.createdAt(),
                r.modifiedAt(), r.status()), out, "Endpoints", (r, s) -> s.put("EndpointName", r.name()).put("EndpointArn", r.arn())
                .put("CreationTime", SageMakerService.seconds(r.createdAt())).put("LastModifiedTime", SageMakerService.seconds(r.modifiedAt()))
                .put("EndpointStatus", r.status()));
        return out;
    }

    // ---- InvokeEndpoint ----

    JsonNode invoke(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String name = in.path("EndpointName").asText("");
        if (!InferenceService.NAME.matcher(name).matches() || name.length() > 63) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'endpointName' failed to satisfy constraint: "
                    + "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*");
        }
        byte[] body = in.get(S3Routes.BODY) instanceof POJONode p && p.getPojo() instanceof byte[] b ? b : new byte[0];
        String contentType = header(in, "ContentType").orElse("application/octet-stream");
        String accept = header(in, "Accept").orElse("*/*");
        Optional<String> custom = header(in, "CustomAttributes");
        Optional<String> target = header(in, "TargetVariant");
        Optional<String> inferenceId = header(in, "InferenceId");
        if (inferenceId.isPresent() && (inferenceId.get().isEmpty() || inferenceId.get().length() > 64
                || inferenceId.get().charAt(0) == ' ')) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'inferenceId' failed to satisfy constraint: "
                    + "Member must have length less than or equal to 64 and start with a character that is not white space.");
        }
        java.time.Instant at = resources.clock.instant();
        if (in.has("TargetModel") || in.has("TargetContainerHostname") || in.has("EnableExplanations") || in.has("SessionId")) {
            throw new AwsException("ValidationError", 400, "TargetModel, TargetContainerHostname, EnableExplanations and SessionId are not "
                    + "supported: an endpoint's variants each serve one model in one container.");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", contentType);
        headers.put("Accept", accept);
        custom.ifPresent(c -> headers.put("X-Amzn-SageMaker-Custom-Attributes", c));
        EndpointManager.Answer answer = manager.invoke(account, name, target, new ContainerHttp.Request("POST", "/invocations", headers, body),
                MAX_PAYLOAD);
        ContainerHttp.Response response = answer.response();
        if (response.status() / 100 != 2) {
            String message = new String(response.body(), 0, (int) Math.min(response.body().length, 1024), java.nio.charset.StandardCharsets.UTF_8)
                    .replaceAll("[\\x00-\\x1f\\x7f]", " ");
            throw new AwsException("ModelError", 424, "Received " + (response.status() / 100 == 4 ? "client" : "server") + " error ("
                    + response.status() + ") from primary with message \"" + message + "\". See the endpoint's log group "
                    + "/aws/sagemaker/Endpoints/" + name + " for more information.");
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("x-Amzn-Invoked-Production-Variant", answer.variant());
        String returnedAttributes = response.headers().get("x-amzn-sagemaker-custom-attributes");
        if (returnedAttributes != null && HEADER_VALUE.matcher(returnedAttributes).matches()) {
            out.put("X-Amzn-SageMaker-Custom-Attributes", returnedAttributes);
        }
        String type = response.headers().getOrDefault("content-type", "application/json");
        if (!HEADER_VALUE.matcher(type).matches()) {
            type = "application/octet-stream";
        }
        if (answer.capture().isPresent()) {
            capture.offer(answer.capture().get(), new DataCapture.Exchange(contentType, body, type, response.body(), inferenceId, at));
        }
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        result.set(S3Routes.ENCODED, new POJONode(new EncodedResponse(200, type, out, response.body())));
        return result;
    }

    private static Optional<String> header(ObjectNode in, String member) {
        JsonNode n = in.path(member);
        if (!n.isTextual()) {
            return Optional.empty();
        }
        if (!HEADER_VALUE.matcher(n.asText()).matches()) {
            throw new AwsException("ValidationError", 400, member + " must be printable ASCII of at most 1024 characters.");
        }
        return Optional.of(n.asText());
    }
}
