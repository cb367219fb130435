package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.auth.AuthException;
import dev.citadel.core.AwsException;
import dev.citadel.core.Ids;
import dev.citadel.pipeline.audit.AuditEvent;
import dev.citadel.pipeline.audit.AuditSink;
import dev.citadel.pipeline.audit.Redactor;
import dev.citadel.pipeline.audit.SensitiveData;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The path of every API request (DESIGN.md §3): route by the SigV4 credential scope, read the
 * body within the operation's limit, authenticate, decode, look up the operation's spec,
 * authorize, run the handler, make the audit event durable, encode. Every request that enters
 * leaves with either the operation's output or an AWS error in its service's protocol, and every
 * one of them, refused or not, is on the audit record first.
 */
public final class RequestPipeline {
    private static final Logger LOG = LoggerFactory.getLogger(RequestPipeline.class);

    private final String region;
    private final OperationRegistry registry;
    private final RequestAuthenticator authenticator;
    private final Authorizer authorizer;
    private final AuditSink audit;
    private final Map<Protocol, ProtocolAdapter> adapters;
    private final long defaultMaxBodyBytes;
    private final Clock clock;
    private final Map<String, Long> serviceBodyLimits = new HashMap<>();
    private final SensitiveData.Mode sensitiveData;
    private final Map<SensitiveData.Kind, java.util.concurrent.atomic.LongAdder> sensitiveFindings = new java.util.EnumMap<>(
            SensitiveData.Kind.class);

    private final ServiceDefinition registryService;
    private final RegistryAuthenticator registryAuthenticator;
    private final RequestMetrics metrics;

    public RequestPipeline(String region, OperationRegistry registry, RequestAuthenticator authenticator,
            Authorizer authorizer, AuditSink audit, Map<Protocol, ProtocolAdapter> adapters, long defaultMaxBodyBytes,
            Clock clock, SensitiveData.Mode sensitiveData) {
        this(region, registry, authenticator, authorizer, audit, adapters, defaultMaxBodyBytes, clock, sensitiveData, null, null,
                RequestMetrics.NONE);
    }

    /**
     * @param registryService       the container registry's OCI Distribution API ({@code /v2/…}), or null when not served
     * @param registryAuthenticator how its requests authenticate (ECR tokens)
     * @param metrics               told of every request answered and every audit event made durable
     */
    public RequestPipeline(String region, OperationRegistry registry, RequestAuthenticator authenticator,
            Authorizer authorizer, AuditSink audit, Map<Protocol, ProtocolAdapter> adapters, long defaultMaxBodyBytes,
            Clock clock, SensitiveData.Mode sensitiveData, ServiceDefinition registryService, RegistryAuthenticator registryAuthenticator,
            RequestMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.registryService = registryService;
        this.registryAuthenticator = registryAuthenticator;
        this.sensitiveData = requireNonNull(sensitiveData, "sensitiveData is null");
        this.region = requireNonNull(region, "region is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.authenticator = requireNonNull(authenticator, "authenticator is null");
        this.authorizer = requireNonNull(authorizer, "authorizer is null");
        this.audit = requireNonNull(audit, "audit is null");
        this.adapters = Map.copyOf(adapters);
        this.defaultMaxBodyBytes = defaultMaxBodyBytes;
        this.clock = requireNonNull(clock, "clock is null");
        for (SensitiveData.Kind k : SensitiveData.Kind.values()) {
            sensitiveFindings.put(k, new java.util.concurrent.atomic.LongAdder());
        }
        for (Operation op : registry.operations()) {
            serviceBodyLimits.merge(op.spec().service(), bodyLimit(op), Math::max);
        }
    }

    /** The mutable record of one request as it moves through the steps; it becomes the audit event. */
    private static final class Trace {
        final String requestId = Ids.requestId();
        final long startNanos = System.nanoTime();
        RequestLogContext log;
        Instant receivedAt;
        ServiceDefinition service;
        String operation = "";
        OperationSpec spec;
        Principal principal;
        ObjectNode input;
        JsonNode output;
        AwsException error;
        List<String> resources = List.of();
        List<SensitiveData.Finding> findings = List.of();
    }

    public EncodedResponse handle(IncomingRequest request) {
        Trace t = new Trace();
        t.receivedAt = clock.instant();
        try (RequestLogContext log = RequestLogContext.open(t.requestId)) {
            t.log = log;
            EncodedResponse response;
            try {
                response = process(request, t);
            } catch (AwsException e) {
                t.error = e;
                response = null;
            } catch (RuntimeException e) {
                LOG.error("request {} failed", t.requestId, e);
                t.error = AwsException.internal();
                response = null;
            }
            ServiceDefinition service = t.service != null ? t.service : guessService(request);
            try {
                record(event(request, t, service));
            } catch (RuntimeException e) {
                LOG.error("request {}: audit event not durable; refusing to acknowledge", t.requestId, e);
                t.error = AwsException.internal();
                response = null;
            }
            if (response == null) {
                ProtocolAdapter adapter = adapters.get(service.protocol());
                response = adapter.encodeError(service, t.error, t.requestId, request.method().equals("HEAD"));
            }
            completed(t, service, response.status());
            return response;
        }
    }

    /** Makes the event durable and tells the metrics how long that took. */
    private void record(AuditEvent event) {
        long started = System.nanoTime();
        audit.record(event);
        try {
            metrics.auditRecorded(System.nanoTime() - started);
        } catch (RuntimeException e) {
            LOG.warn("request metrics failed", e);
        }
    }

    /** Tells the metrics a request was answered: its service, its operation when one was found, its status and error code. */
    private void completed(Trace t, ServiceDefinition service, int status) {
        try {
            metrics.requestCompleted(service.id(), t.spec == null ? "" : t.spec.name(), status, t.error == null ? "" : t.error.code(),
                    System.nanoTime() - t.startNanos);
        } catch (RuntimeException e) {
            LOG.warn("request metrics failed", e);
        }
    }

    private EncodedResponse process(IncomingRequest request, Trace t) {
        if (registryService != null && dev.citadel.pipeline.protocol.OciRoutes.isRegistryPath(request.rawPath())) {
            return processRegistry(request, t);
        }
        RequestAuthenticator.Scope scope;
        try {
            scope = authenticator.scope(request);
        } catch (AuthException e) {
            throw AuthErrors.toAwsException(e, guessService(request).protocol());
        }
        ServiceDefinition service = route(request, scope.service());
        t.service = service;
        t.log.service(service.id());
        boolean regionOk = scope.region().equals(region)
                || (service.global() && scope.region().equals(ServiceDefinition.GLOBAL_SIGNING_REGION));
        if (!regionOk) {
            throw AuthErrors.wrongScope(service.protocol(),
                    "Credential should be scoped to a valid region. This server answers '" + region + "'.");
        }
        ProtocolAdapter adapter = adapters.get(service.protocol());
        // The body limit is the operation's; where the protocol names the operation only inside
        // the body (awsQuery), the read is bounded by the service's largest limit and the
        // operation's own limit is checked once it is known.
        Optional<Operation> early = adapter.operationFromHeaders(service, request).flatMap(name -> registry.operation(service.id(), name));
        long limit = early.map(this::bodyLimit).orElseGet(() -> serviceBodyLimits.getOrDefault(service.id(), defaultMaxBodyBytes));

        boolean streaming = early.map(op -> op.spec().streamingBody()).orElse(false);
        Principal principal;
        byte[] body;
        java.io.InputStream stream = null;
        try {
            if (streaming) {
                // The body stays on the wire: its declared (decoded) length is checked here, its
                // signature or checksums as the operation reads it.
                long declared = request.contentLength();
                String decoded = request.header("x-amz-decoded-content-length");
                if (decoded != null && decoded.matches("\\d{1,18}")) {
                    declared = Long.parseLong(decoded);
                }
                if (declared > limit) {
                    throw service.protocol() == Protocol.REST_XML ? uploadTooLarge(limit) : tooLarge(limit);
                }
                RequestAuthenticator.StreamingAuthenticated a = authenticator.authenticateStreaming(scope, request.body(), true);
                principal = a.principal();
                stream = a.body();
                body = new byte[0];
            } else {
                RequestAuthenticator.Authenticated authenticated = authenticator.authenticate(scope, readBody(request, limit),
                        service.protocol() == Protocol.REST_XML);
                principal = authenticated.principal();
                body = authenticated.body();
            }
        } catch (AuthException e) {
            throw AuthErrors.toAwsException(e, service.protocol());
        }
        t.principal = principal;
        t.log.account(principal.account().value());
        return run(request, t, service, adapter, principal, body, stream);
    }

    /**
     * A container registry request: routed by path, authenticated by its ECR token, then
     * authorized, run and audited like every other operation (its ECR action, its repository).
     */
    private EncodedResponse processRegistry(IncomingRequest request, Trace t) {
        ServiceDefinition service = registryService;
        t.service = service;
        t.log.service(service.id());
        ProtocolAdapter adapter = adapters.get(service.protocol());
        String name = adapter.operationFromHeaders(service, request).orElseThrow();
        t.operation = name;
        Operation operation = registry.operation(service.id(), name).orElseThrow(() -> adapter.unknownOperation(service, name));
        Principal principal;
        try {
            principal = registryAuthenticator.authenticate(request);
        } catch (AuthException e) {
            throw AuthErrors.toAwsException(e, service.protocol());
        }
        t.principal = principal;
        t.log.account(principal.account().value());
        if (operation.spec().streamingBody()) {
            if (request.contentLength() > bodyLimit(operation)) {
                throw tooLarge(bodyLimit(operation));
            }
            return run(request, t, service, adapter, principal, new byte[0], request.body());
        }
        return run(request, t, service, adapter, principal, readBody(request, bodyLimit(operation)), null);
    }

    /**
     * Runs an operation for a principal without a request on the wire: one of Citadel's services
     * acting with a role it was passed, as SageMaker reads a job's input from S3 with the job's
     * execution role. The call is authorized, run and audited like a signed request of that
     * principal; its audit event names {@code invokedBy} (the service, {@code sagemaker.amazonaws.com})
     * as source address and user agent, and no {@code aws:SourceIp} is offered to policies.
     *
     * @return the handler's output
     * @throws AwsException the refusal or failure, as the operation's protocol spells it
     */
    public JsonNode invokeAs(Principal principal, String serviceId, String operationName, ObjectNode input, String invokedBy) {
        ServiceDefinition service = registry.service(serviceId).orElseThrow(() -> new IllegalArgumentException("no service " + serviceId));
        Operation operation = registry.operation(serviceId, operationName)
                .orElseThrow(() -> new IllegalArgumentException("no operation " + serviceId + ":" + operationName));
        ConnectionInfo connection = new ConnectionInfo(invokedBy, "", "", "");
        IncomingRequest synthetic = new IncomingRequest("POST", "/", "", Map.of("user-agent", List.of(invokedBy)),
                java.io.InputStream.nullInputStream(), 0, connection);
        Trace t = new Trace();
        t.receivedAt = clock.instant();
        t.service = service;
        t.principal = principal;
        t.operation = operationName;
        t.spec = operation.spec();
        t.input = input;
        try (RequestLogContext log = RequestLogContext.open(t.requestId)) {
            log.service(service.id());
            log.operation(operation.spec().name());
            log.account(principal.account().value());
            RuntimeException failure = null;
            try {
                RequestContext ctx = new RequestContext(t.requestId, t.receivedAt, region, service, operation.spec(), principal, connection,
                        invokedBy);
                authorize(ctx, operation.spec(), input, t);
                t.output = operation.handle(ctx, input);
            } catch (AwsException e) {
                t.error = e;
                failure = e;
            } catch (RuntimeException e) {
                LOG.error("{} for {} failed", operationName, invokedBy, e);
                t.error = AwsException.internal();
                failure = t.error;
            }
            record(event(synthetic, t, service));
            completed(t, service, t.error == null ? 200 : t.error.httpStatus());
            if (failure != null) {
                throw failure;
            }
            return t.output;
        }
    }

    /** The steps after authentication, the same for every protocol: decode, find the spec, authorize, scan, run, encode. */
    private EncodedResponse run(IncomingRequest request, Trace t, ServiceDefinition service, ProtocolAdapter adapter, Principal principal,
            byte[] body, java.io.InputStream stream) {
        ProtocolAdapter.Call call = adapter.decode(service, request, body);
        if (stream != null) {
            call.input().set(dev.citadel.pipeline.protocol.S3Routes.BODY, new com.fasterxml.jackson.databind.node.POJONode(stream));
        }
        t.operation = call.operation();
        t.input = call.input();
        Operation operation = registry.operation(service.id(), call.operation())
                .orElseThrow(() -> adapter.unknownOperation(service, call.operation()));
        OperationSpec spec = operation.spec();
        t.spec = spec;
        t.log.operation(spec.name());
        if (body.length > bodyLimit(operation)) {
            throw tooLarge(bodyLimit(operation));
        }
        RequestContext ctx = new RequestContext(t.requestId, t.receivedAt, region, service, spec, principal,
                request.connection(), Optional.ofNullable(request.header("user-agent")).orElse(""));

        authorize(ctx, spec, call.input(), t);
        checkSensitiveData(service, call.input(), t);
        JsonNode output = operation.handle(ctx, call.input());
        t.output = output;
        return adapter.encode(service, call.operation(), output, t.requestId);
    }

    private long bodyLimit(Operation op) {
        return op.spec().maxBodyBytes() > 0 ? op.spec().maxBodyBytes() : defaultMaxBodyBytes;
    }

    /**
     * Scans the free-form fields of an authorized request: the findings go on its audit event
     * (with the values masked there); in refuse mode the request is refused before its handler
     * runs, naming the field and never the value.
     */
    private void checkSensitiveData(ServiceDefinition service, ObjectNode input, Trace t) {
        if (sensitiveData == SensitiveData.Mode.OFF) {
            return;
        }
        List<SensitiveData.Finding> findings = SensitiveData.scanInput(input);
        if (findings.isEmpty()) {
            return;
        }
        t.findings = findings;
        findings.forEach(f -> sensitiveFindings.get(f.kind()).increment());
        if (sensitiveData == SensitiveData.Mode.REFUSE) {
            SensitiveData.Finding first = findings.getFirst();
            throw new AwsException(service.protocol() == Protocol.REST_XML ? "InvalidArgument" : "ValidationException", 400,
                    "The value of " + first.field() + " looks like " + first.kind().description()
                            + "; this server does not accept such data in free-form fields.");
        }
    }

    /** How many findings of each kind the sensitive-data detectors have made since start (a metric). */
    public Map<SensitiveData.Kind, Long> sensitiveDataFindings() {
        Map<SensitiveData.Kind, Long> out = new java.util.EnumMap<>(SensitiveData.Kind.class);
        sensitiveFindings.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /**
     * The input member that names, for an operation authorized resource by resource, the
     * resources the caller may not act on (always set by the pipeline, never by the request).
     */
    public static final String REFUSED_RESOURCES = "__refusedResources";

    private void authorize(RequestContext ctx, OperationSpec spec, ObjectNode input, Trace trace) {
        if (spec.authorization() == OperationSpec.Authorization.NONE_REQUIRED) {
            return;
        }
        List<String> resources = spec.resources().resolve(ctx, input);
        trace.resources = resources;
        Map<String, List<String>> keys = new HashMap<>(spec.conditionKeys().resolve(ctx, input));
        globalConditionKeys(ctx, keys);
        String action = spec.iamAction(input);
        if (spec.eachResource()) {
            // Decided one by one; the handler gets the refused resources and acts on none of them.
            com.fasterxml.jackson.databind.node.ArrayNode refused = input.putArray(REFUSED_RESOURCES);
            for (String resource : resources) {
                if (!authorizer.authorize(new AuthorizationRequest(ctx.principal(), action, List.of(resource), keys)).allowed()) {
                    refused.add(resource);
                }
            }
            return;
        }
        AuthorizationDecision decision = authorizer.authorize(new AuthorizationRequest(ctx.principal(), action, resources, keys));
        if (!decision.allowed()) {
            String message = "User: " + ctx.principal().arn() + " is not authorized to perform: " + action
                    + " on resource: " + decision.deniedResource() + " " + decision.reason();
            throw accessDenied(ctx.service().protocol(), message);
        }
    }

    /** Adds the global condition keys of the request (aws:SourceIp, aws:PrincipalArn, …) to {@code keys}. */
    public static void globalConditionKeys(RequestContext ctx, Map<String, List<String>> keys) {
        Principal p = ctx.principal();
        if (!ctx.connection().sourceIp().endsWith(".amazonaws.com")) {
            // a call a service of Citadel's makes with a role (invokeAs) comes from no address
            keys.put("aws:SourceIp", List.of(ctx.connection().sourceIp()));
        }
        keys.put("aws:SecureTransport", List.of("true"));
        keys.put("aws:CurrentTime", List.of(ctx.receivedAt().toString()));
        keys.put("aws:EpochTime", List.of(Long.toString(ctx.receivedAt().getEpochSecond())));
        keys.put("aws:RequestedRegion", List.of(ctx.region()));
        keys.put("aws:PrincipalAccount", List.of(p.account().value()));
        keys.put("aws:PrincipalArn", List.of(p.arn()));
        keys.put("aws:PrincipalType", List.of(p.type().equals("IAMUser") ? "User" : p.type()));
        keys.put("aws:userid", List.of(p.principalId()));
        keys.put("aws:UserAgent", List.of(ctx.userAgent()));
        keys.put("aws:ViaAWSService", List.of("false"));
        if (p.type().equals("IAMUser")) {
            keys.put("aws:username", List.of(p.name()));
        }
        p.tags().forEach((k, v) -> keys.put("aws:PrincipalTag/" + k, List.of(v)));
        // Long-term keys carry no MFA keys at all (AWS's documented reason for BoolIfExists);
        // temporary credentials say whether MFA came with the call that issued them, and when.
        p.session().ifPresent(s -> {
            keys.put("aws:TokenIssueTime", List.of(s.issuedAt().toString()));
            keys.put("aws:MultiFactorAuthPresent", List.of(Boolean.toString(s.mfaAt().isPresent())));
            s.mfaAt().ifPresent(at -> keys.put("aws:MultiFactorAuthAge",
                    List.of(Long.toString(Math.max(0, ctx.receivedAt().getEpochSecond() - at.getEpochSecond())))));
            s.sourceIdentity().ifPresent(id -> keys.put("aws:SourceIdentity", List.of(id)));
        });
        if (!ctx.connection().endpointId().isEmpty()) {
            keys.put("aws:SourceVpce", List.of(ctx.connection().endpointId()));
        }
    }

    static AwsException accessDenied(Protocol protocol, String message) {
        return switch (protocol) {
            case AWS_QUERY, REST_XML -> new AwsException("AccessDenied", 403, message);
            case AWS_JSON_1_0, AWS_JSON_1_1 -> new AwsException("AccessDeniedException", 400, message);
            case REST_JSON_1 -> new AwsException("AccessDeniedException", 403, message);
            case OCI_DISTRIBUTION -> new AwsException("DENIED", 403, message);
        };
    }

    /**
     * Picks the service among those that sign with the scope's name: a JSON service by its
     * X-Amz-Target prefix, a query service by an Action parameter, otherwise the REST one.
     */
    private ServiceDefinition route(IncomingRequest request, String signingName) {
        List<ServiceDefinition> candidates = registry.servicesSignedAs(signingName);
        if (candidates.isEmpty()) {
            throw AuthErrors.wrongScope(guessService(request).protocol(),
                    "Credential should be scoped to a valid service: '" + signingName + "' is not served here.");
        }
        if (candidates.size() == 1) {
            return candidates.getFirst();
        }
        String target = request.header("x-amz-target");
        for (ServiceDefinition s : candidates) {
            boolean json = s.protocol() == Protocol.AWS_JSON_1_0 || s.protocol() == Protocol.AWS_JSON_1_1;
            if (json && target != null && target.startsWith(s.targetPrefix() + ".")) {
                return s;
            }
            if (!json && target == null) {
                return s;
            }
        }
        return candidates.getFirst();
    }

    /** The service an unauthenticated or unroutable request most likely meant, so its error has the right shape. */
    private ServiceDefinition guessService(IncomingRequest request) {
        String target = request.header("x-amz-target");
        if (target != null) {
            int dot = target.indexOf('.');
            Optional<ServiceDefinition> s = registry.serviceByTargetPrefix(dot > 0 ? target.substring(0, dot) : target);
            if (s.isPresent()) {
                return s.get();
            }
        }
        // A path below the root, or a method other than POST without an Action, addresses S3 (the
        // one REST XML service, addressed path-style); the query services take POST / or ?Action=.
        boolean queryShaped = request.rawPath().equals("/")
                && (request.method().equals("POST") || request.rawQuery().startsWith("Action=") || request.rawQuery().contains("&Action="));
        if (!queryShaped) {
            for (ServiceDefinition s : registry.services()) {
                if (s.protocol() == Protocol.REST_XML) {
                    return s;
                }
            }
        }
        for (ServiceDefinition s : registry.services()) {
            if (s.protocol() == Protocol.AWS_QUERY && s.id().equals("sts")) {
                return s;
            }
        }
        return registry.services().iterator().next();
    }

    /** How much of a too-large body is read and dropped so that the client, still sending it, can read the refusal. */
    private static final long DRAIN_LIMIT = 16L << 20;

    private static byte[] readBody(IncomingRequest request, long limit) {
        if (request.contentLength() > limit) {
            drain(request, request.contentLength());
            throw tooLarge(limit);
        }
        try (InputStream in = request.body()) {
            byte[] body = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8) + 1);
            if (body.length > limit) {
                drain(request, DRAIN_LIMIT);
                throw tooLarge(limit);
            }
            if (request.contentLength() >= 0 && body.length != request.contentLength()) {
                throw new AwsException("IncompleteBody", 400, "The request body is shorter than its Content-Length.");
            }
            return body;
        } catch (IOException e) {
            throw new AwsException("RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period.");
        }
    }

    /**
     * Reads and drops the rest of a body that will be refused, when it is at most {@link
     * #DRAIN_LIMIT} long: a client that writes its whole body before it reads (Python's
     * http.client, so boto3) otherwise meets a closed connection instead of the 413. Longer
     * bodies are cut off.
     */
    private static void drain(IncomingRequest request, long declared) {
        if (declared > DRAIN_LIMIT) {
            return;
        }
        try (InputStream in = request.body()) {
            long left = DRAIN_LIMIT;
            byte[] buf = new byte[1 << 16];
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) {
                left -= n;
            }
        } catch (IOException e) {
            // the client went away: nothing to drain
        }
    }

    private static AwsException tooLarge(long limit) {
        return new AwsException("RequestEntityTooLarge", 413, "Request body exceeds the limit of " + limit + " bytes for this operation.");
    }

    /** S3 refuses an upload larger than the operation allows by its declared length, as 400 {@code EntityTooLarge}. */
    private static AwsException uploadTooLarge(long limit) {
        return new AwsException("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size of " + limit + " bytes.");
    }

    private AuditEvent event(IncomingRequest request, Trace t, ServiceDefinition service) {
        Optional<JsonNode> identity = Optional.ofNullable(t.principal).map(RequestPipeline::userIdentity);
        java.util.Set<String> sensitive = t.spec == null ? java.util.Set.of() : t.spec.sensitiveInputFields();
        boolean readOnly = t.spec != null && t.spec.readOnly();
        Optional<JsonNode> params = Optional.ofNullable(Redactor.redact(t.input, sensitive)).map(p -> SensitiveData.mask(p, t.findings));
        Optional<JsonNode> response = readOnly || t.error != null ? Optional.empty()
                : Optional.ofNullable(Redactor.redact(t.output, sensitive))
                        // A response often repeats what the request wrote (CreateUser returns its tags): masked alike.
                        .map(r -> sensitiveData == SensitiveData.Mode.OFF ? r : SensitiveData.mask(r, SensitiveData.scanInput(r)));
        String host = Optional.ofNullable(request.header("host")).orElse("");
        return new AuditEvent(Ids.requestId(), t.receivedAt, service.eventSource(),
                t.operation.isEmpty() ? "Unknown" : t.operation, region, request.connection().sourceIp(),
                truncate(Optional.ofNullable(request.header("user-agent")).orElse(""), 1024), identity, params, response,
                Optional.ofNullable(t.error).map(AwsException::code), Optional.ofNullable(t.error).map(AwsException::getMessage),
                t.requestId, readOnly, t.principal == null ? "" : t.principal.account().value(),
                request.connection().tlsVersion(), request.connection().cipherSuite(), truncate(host, 256),
                request.connection().endpointId(),
                t.resources.stream().filter(r -> r.startsWith("arn:")).map(AuditEvent.Resource::of).toList(),
                t.spec == null || !t.spec.dataEvent(), t.findings);
    }

    private static JsonNode userIdentity(Principal p) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("type", p.type());
        n.put("principalId", p.principalId());
        n.put("arn", p.arn());
        n.put("accountId", p.account().value());
        n.put("accessKeyId", p.accessKeyId());
        if (p.type().equals("IAMUser")) {
            n.put("userName", p.name());
        }
        return n;
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }
}
