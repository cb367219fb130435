package dev.citadel.services.cloudtrail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.DeliveryRepository;
import dev.citadel.metadata.cloudtrail.EventIndexRepository;
import dev.citadel.metadata.cloudtrail.TrailRepository;
import dev.citadel.metadata.cloudtrail.TrailRepository.Trail;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.RequestFacts;
import dev.citadel.services.Inputs;
import dev.citadel.services.iam.PolicyAuthorizer;
import dev.citadel.wire.Protocol;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * AWS CloudTrail (awsJson1_1, {@code CloudTrail_20131101}), the trails: CreateTrail, GetTrail,
 * DescribeTrails, UpdateTrail, DeleteTrail, StartLogging, StopLogging, GetTrailStatus and
 * Put/GetEventSelectors. A trail names the bucket its log files go to; as in AWS, the bucket
 * must exist and its bucket policy must let the service principal {@code cloudtrail.amazonaws.com}
 * read the bucket ACL and write under {@code [prefix/]AWSLogs/<account>/}, or the trail is refused
 * (InsufficientS3BucketPolicyException). {@link TrailDelivery} delivers the log and digest files;
 * the operator trail, kept by the configuration, refuses StopLogging, UpdateTrail,
 * PutEventSelectors and DeleteTrail from everyone (OperationNotPermittedException).
 */
public final class CloudTrailService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("cloudtrail", "cloudtrail", "cloudtrail", Protocol.AWS_JSON_1_1,
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "2013-11-01", "", "cloudtrail.amazonaws.com", false);
    public static final String SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com";
    /** Trails per account and region, as AWS allows. */
    static final int MAX_TRAILS = 5;
    private static final String INVALID = "InvalidParameterException";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?![._-])){1,126}[A-Za-z0-9]");
    private static final Pattern TRAIL_ARN = Pattern.compile("arn:aws:cloudtrail:([a-z0-9-]+):(\\d{12}):trail/(.+)");
    private static final String DEFAULT_SELECTORS = "[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,\"DataResources\":[],"
            + "\"ExcludeManagementEventSources\":[]}]";

    private final MetadataStore store;
    private final PolicyAuthorizer.ResourcePolicies buckets;
    private final EventIndexer history;
    private final DigestSigningKeys signingKeys;
    private final Clock clock;
    private final String operatorTrailArn;

    /**
     * @param buckets the owner and bucket policy of a bucket ARN (S3's view)
     * @param history the event history LookupEvents reads
     * @param signingKeys the keys that sign digest files (ListPublicKeys)
     * @param operatorTrailArn the operator trail, which no API call may stop, change or delete ("" when there is none)
     */
    public CloudTrailService(MetadataStore store, PolicyAuthorizer.ResourcePolicies buckets, EventIndexer history, DigestSigningKeys signingKeys,
            Clock clock, String operatorTrailArn) {
        this.operatorTrailArn = operatorTrailArn;
        this.store = store;
        this.buckets = buckets;
        this.history = history;
        this.signingKeys = signingKeys;
        this.clock = clock;
    }

    public List<Operation> operations() {
        return List.of(
                op("CreateTrail", "Name", false, this::createTrail),
                op("GetTrail", "Name", true, this::getTrail),
                op("DescribeTrails", null, true, this::describeTrails),
                op("UpdateTrail", "Name", false, this::updateTrail),
                op("DeleteTrail", "Name", false, this::deleteTrail),
                op("StartLogging", "Name", false, (c, i) -> setLogging(c, i, true)),
                op("StopLogging", "Name", false, (c, i) -> setLogging(c, i, false)),
                op("GetTrailStatus", "Name", true, this::getTrailStatus),
                op("PutEventSelectors", "TrailName", false, this::putEventSelectors),
                op("GetEventSelectors", "TrailName", true, this::getEventSelectors),
                op("LookupEvents", null, true, this::lookupEvents),
                op("ListPublicKeys", null, true, this::listPublicKeys));
    }

    /** An operation on the trail its {@code member} names (by name or ARN); DescribeTrails and LookupEvents ({@code member} null) are on "*". */
    private static Operation op(String name, String member, boolean readOnly, Operation.Handler handler) {
        ResourceResolver resources = member == null ? ResourceResolver.ALL : (ctx, input) -> List.of(trailArn(ctx, nameOf(input, member)));
        OperationSpec.Builder b = OperationSpec.builder("cloudtrail", name).resources(resources).maxBodyBytes(256 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    /** The trail name a request gives (a name or a trail ARN), or "" when absent. */
    private static String nameOf(ObjectNode input, String member) {
        String given = input.path(member).asText("");
        java.util.regex.Matcher m = TRAIL_ARN.matcher(given);
        return m.matches() ? m.group(3) : given;
    }

    private static String trailArn(RequestContext ctx, String name) {
        return "arn:aws:cloudtrail:" + ctx.region() + ":" + ctx.principal().account().value() + ":trail/" + name;
    }

    private static String requireName(ObjectNode input, String member) {
        String given = input.path(member).asText("");
        if (given.isEmpty()) {
            throw new AwsException("InvalidTrailNameException", 400, "Trail name cannot be empty.");
        }
        String name = nameOf(input, member);
        if (!NAME.matcher(name).matches()) {
            throw new AwsException("InvalidTrailNameException", 400, "Trail name or ARN can only contain uppercase letters, lowercase letters, "
                    + "numbers, periods (.), hyphens (-), and underscores (_), must start and end with a letter or number, and must be "
                    + "between 3 and 128 characters long.");
        }
        return name;
    }

    private Trail requireTrail(RequestContext ctx, ObjectNode input, String member) {
        String name = requireName(input, member);
        String account = ctx.principal().account().value();
        java.util.regex.Matcher arn = TRAIL_ARN.matcher(input.path(member).asText(""));
        if (arn.matches() && (!arn.group(2).equals(account) || !arn.group(1).equals(ctx.region()))) {
            // Another account's or region's trail: not visible here (and never looked up under the caller's name).
            throw new AwsException("TrailNotFoundException", 400, "Unknown trail: " + input.path(member).asText("") + " for the user: " + account);
        }
        return store.read(h -> new TrailRepository(h).trail(account, name))
                .orElseThrow(() -> new AwsException("TrailNotFoundException", 400, "Unknown trail: " + trailArn(ctx, name)
                        + " for the user: " + account));
    }

    // ---- trails ----

    JsonNode createTrail(RequestContext ctx, ObjectNode input) {
        if (TRAIL_ARN.matcher(input.path("Name").asText("")).matches()) {
            throw new AwsException("InvalidTrailNameException", 400, "A trail is created by name, not by ARN.");
        }
        String name = requireName(input, "Name");
        Inputs in = new Inputs(input, INVALID);
        String bucket = in.requiredString("S3BucketName", 3, 63, null);
        String prefix = in.optionalString("S3KeyPrefix", 0, 200, null).orElse("");
        checkPrefix(prefix);
        String kms = in.optionalString("KmsKeyId", 1, 2048, null).orElse("");
        boolean global = bool(input, "IncludeGlobalServiceEvents", true);
        boolean multi = bool(input, "IsMultiRegionTrail", false);
        boolean validation = bool(input, "EnableLogFileValidation", false);
        refuseUnsupported(input);
        if (multi && !global) {
            throw new AwsException("InvalidParameterCombinationException", 400, "Multi-Region trail must include global service events.");
        }
        String account = ctx.principal().account().value();
        String arn = trailArn(ctx, name);
        checkBucket(account, arn, bucket, prefix);
        Trail trail = new Trail(account, name, arn, ctx.region(), bucket, prefix, global, multi, validation, kms, DEFAULT_SELECTORS, false,
                Optional.empty(), Optional.empty(), clock.instant());
        try {
            store.useTransaction(h -> {
                TrailRepository repo = new TrailRepository(h);
                if (repo.trails(account).size() >= MAX_TRAILS) {
                    throw new AwsException("MaximumNumberOfTrailsExceededException", 400, "User: " + account + " already has " + MAX_TRAILS
                            + " trails in " + ctx.region() + ".");
                }
                repo.insert(trail);
                DeliveryRepository delivery = new DeliveryRepository(h);
                delivery.forget(arn);
                // Delivery starts where the audit log ends now: earlier events predate the trail.
                delivery.save(new DeliveryRepository.State(arn, history.logSize(), Optional.empty(), Optional.empty(), "", Optional.empty(), ""));
            });
        } catch (DuplicateKeyException e) {
            throw new AwsException("TrailAlreadyExistsException", 400, "Trail " + name + " already exists for customer: " + account);
        }
        return describe(trail, false);
    }

    JsonNode updateTrail(RequestContext ctx, ObjectNode input) {
        Trail t = requireTrail(ctx, input, "Name");
        refuseOperatorTrail(t);
        Inputs in = new Inputs(input, INVALID);
        String bucket = in.optionalString("S3BucketName", 3, 63, null).orElse(t.s3Bucket());
        String prefix = in.optionalString("S3KeyPrefix", 0, 200, null).orElse(t.s3KeyPrefix());
        checkPrefix(prefix);
        String kms = in.optionalString("KmsKeyId", 0, 2048, null).orElse(t.kmsKeyId());
        boolean global = bool(input, "IncludeGlobalServiceEvents", t.includeGlobalEvents());
        boolean multi = bool(input, "IsMultiRegionTrail", t.multiRegion());
        boolean validation = bool(input, "EnableLogFileValidation", t.logFileValidation());
        refuseUnsupported(input);
        if (multi && !global) {
            throw new AwsException("InvalidParameterCombinationException", 400, "Multi-Region trail must include global service events.");
        }
        if (!bucket.equals(t.s3Bucket()) || !prefix.equals(t.s3KeyPrefix())) {
            checkBucket(t.accountId(), t.arn(), bucket, prefix);
        }
        Trail updated = new Trail(t.accountId(), t.name(), t.arn(), t.homeRegion(), bucket, prefix, global, multi, validation, kms,
                t.eventSelectors(), t.logging(), t.startedAt(), t.stoppedAt(), t.createdAt());
        store.useTransaction(h -> new TrailRepository(h).update(updated));
        return describe(updated, false);
    }

    JsonNode deleteTrail(RequestContext ctx, ObjectNode input) {
        Trail t = requireTrail(ctx, input, "Name");
        refuseOperatorTrail(t);
        store.useTransaction(h -> {
            new TrailRepository(h).delete(t.accountId(), t.name());
            new DeliveryRepository(h).forget(t.arn());
        });
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode getTrail(RequestContext ctx, ObjectNode input) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Trail", describe(requireTrail(ctx, input, "Name"), true));
        return out;
    }

    JsonNode describeTrails(RequestContext ctx, ObjectNode input) {
        String account = ctx.principal().account().value();
        JsonNode names = input.path("trailNameList");
        java.util.Set<String> wanted = new java.util.HashSet<>();
        names.forEach(n -> {
            java.util.regex.Matcher m = TRAIL_ARN.matcher(n.asText(""));
            wanted.add(m.matches() ? m.group(3) : n.asText(""));
        });
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("trailList");
        for (Trail t : store.read(h -> new TrailRepository(h).trails(account))) {
            if (wanted.isEmpty() || wanted.contains(t.name())) {
                list.add(describe(t, true));
            }
        }
        return out;
    }

    JsonNode setLogging(RequestContext ctx, ObjectNode input, boolean on) {
        Trail t = requireTrail(ctx, input, "Name");
        if (!on) {
            refuseOperatorTrail(t);
        }
        Instant now = clock.instant();
        Trail updated = new Trail(t.accountId(), t.name(), t.arn(), t.homeRegion(), t.s3Bucket(), t.s3KeyPrefix(), t.includeGlobalEvents(),
                t.multiRegion(), t.logFileValidation(), t.kmsKeyId(), t.eventSelectors(), on, on ? Optional.of(now) : t.startedAt(),
                on ? t.stoppedAt() : Optional.of(now), t.createdAt());
        store.useTransaction(h -> new TrailRepository(h).update(updated));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode getTrailStatus(RequestContext ctx, ObjectNode input) {
        Trail t = requireTrail(ctx, input, "Name");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("IsLogging", t.logging());
        t.startedAt().ifPresent(at -> out.put("StartLoggingTime", epochSeconds(at)).put("TimeLoggingStarted", at.toString()));
        t.stoppedAt().ifPresent(at -> out.put("StopLoggingTime", epochSeconds(at)).put("TimeLoggingStopped", at.toString()));
        store.read(h -> new DeliveryRepository(h).state(t.arn())).ifPresent(d -> {
            d.latestDelivery().ifPresent(at -> out.put("LatestDeliveryTime", epochSeconds(at)));
            d.latestAttempt().ifPresent(at -> out.put("LatestDeliveryAttemptTime", at.toString())
                    .put("LatestDeliveryAttemptSucceeded", d.latestError().isEmpty() ? at.toString() : ""));
            if (!d.latestError().isEmpty()) {
                out.put("LatestDeliveryError", d.latestError());
            }
            d.latestDigest().ifPresent(at -> out.put("LatestDigestDeliveryTime", epochSeconds(at)));
            if (!d.latestDigestError().isEmpty()) {
                out.put("LatestDigestDeliveryError", d.latestDigestError());
            }
        });
        return out;
    }

    /** The operator trail is kept by the server's configuration: no API call stops, changes or deletes it, whoever makes it. */
    private void refuseOperatorTrail(Trail t) {
        if (t.arn().equals(operatorTrailArn)) {
            throw new AwsException("OperationNotPermittedException", 400, "The operator trail " + t.name() + " is kept by Citadel's "
                    + "configuration (audit.operator-trail); it cannot be stopped, changed or deleted through the API.");
        }
    }

    /**
     * Creates the operator trail at start, or brings it back to what the configuration says: in
     * the management account, every region, log file validation on, logging, delivering to
     * {@code bucket} (which the caller made with CloudTrail's bucket policy). Returns its ARN.
     */
    public static String ensureOperatorTrail(MetadataStore store, Clock clock, String account, String region, String name, String bucket) {
        String arn = "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name;
        Instant now = clock.instant();
        store.useTransaction(h -> {
            TrailRepository repo = new TrailRepository(h);
            Optional<Trail> existing = repo.trail(account, name);
            if (existing.isEmpty()) {
                repo.insert(new Trail(account, name, arn, region, bucket, "", true, true, true, "", DEFAULT_SELECTORS, true, Optional.of(now),
                        Optional.empty(), now));
                return;
            }
            Trail t = existing.get();
            repo.update(new Trail(account, name, arn, region, bucket, "", true, true, true, t.kmsKeyId(), DEFAULT_SELECTORS, true,
                    t.logging() ? t.startedAt() : Optional.of(now), t.stoppedAt(), t.createdAt()));
        });
        return arn;
    }

    /** The bucket policy CloudTrail needs on a trail's bucket, as AWS documents it. */
    public static String bucketPolicy(String bucket, String account, String trailArn) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AWSCloudTrailAclCheck\",\"Effect\":\"Allow\",\"Principal\":"
                + "{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:GetBucketAcl\",\"Resource\":\"arn:aws:s3:::" + bucket + "\","
                + "\"Condition\":{\"StringEquals\":{\"aws:SourceArn\":\"" + trailArn + "\"}}},{\"Sid\":\"AWSCloudTrailWrite\",\"Effect\":"
                + "\"Allow\",\"Principal\":{\"Service\":\"cloudtrail.amazonaws.com\"},\"Action\":\"s3:PutObject\",\"Resource\":"
                + "\"arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*\",\"Condition\":{\"StringEquals\":{\"s3:x-amz-acl\":"
                + "\"bucket-owner-full-control\",\"aws:SourceArn\":\"" + trailArn + "\"}}}]}";
    }

    // ---- digest signing keys ----

    /**
     * ListPublicKeys: the region's digest-signing public keys valid at some time in the range
     * (the current one when no range is given), as PKCS#1 DER with their fingerprints.
     */
    JsonNode listPublicKeys(RequestContext ctx, ObjectNode input) {
        signingKeys.current(ctx.region());
        Instant now = clock.instant();
        Instant start = time(input, "StartTime").orElse(now);
        Instant end = time(input, "EndTime").orElse(now);
        if (start.isAfter(end)) {
            throw new AwsException("InvalidTimeRangeException", 400, "Start time must be before the end time.");
        }
        if (input.hasNonNull("NextToken") && !input.path("NextToken").asText().isEmpty()) {
            throw new AwsException("InvalidTokenException", 400, "Invalid NextToken.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("PublicKeyList");
        for (dev.citadel.metadata.cloudtrail.SigningKeyRepository.SigningKey k : signingKeys.validBetween(ctx.region(), start, end)) {
            list.addObject().put("Value", java.util.Base64.getEncoder().encodeToString(k.publicKey()))
                    .put("ValidityStartTime", k.validFrom().getEpochSecond()).put("ValidityEndTime", k.validTo().getEpochSecond())
                    .put("Fingerprint", k.fingerprint());
        }
        return out;
    }

    // ---- event history ----

    /** LookupEvents' attribute keys and the index's column for each. */
    private static final Map<String, String> LOOKUP_ATTRIBUTES = Map.of("EventId", "event_id", "EventName", "event_name", "ReadOnly", "read_only",
            "Username", "username", "ResourceType", "resource_type", "ResourceName", "resource_name", "EventSource", "event_source",
            "AccessKeyId", "access_key_id");

    /**
     * LookupEvents: the account's management events (refused and malformed requests included),
     * newest first, by one lookup attribute and a time range (the last 90 days by default), 50 at
     * most per page. The history is brought up to date with the audit log first.
     */
    JsonNode lookupEvents(RequestContext ctx, ObjectNode input) {
        JsonNode attributes = input.path("LookupAttributes");
        if (attributes.size() > 1) {
            throw new AwsException("InvalidLookupAttributesException", 400, "You cannot specify more than one lookup attribute.");
        }
        Optional<String> column = Optional.empty();
        String value = "";
        if (attributes.size() == 1) {
            JsonNode a = attributes.get(0);
            column = Optional.ofNullable(LOOKUP_ATTRIBUTES.get(a.path("AttributeKey").asText("")));
            value = a.path("AttributeValue").asText("");
            if (column.isEmpty() || value.isEmpty() || value.length() > 2000) {
                throw new AwsException("InvalidLookupAttributesException", 400, "The lookup attribute key or value is not valid.");
            }
        }
        if (input.hasNonNull("EventCategory") && !input.path("EventCategory").asText().isEmpty()) {
            throw new AwsException("InvalidEventCategoryException", 400, "Insights events are not recorded by Citadel.");
        }
        Instant now = clock.instant();
        Instant end = time(input, "EndTime").orElse(now);
        Instant start = time(input, "StartTime").orElse(now.minus(java.time.Duration.ofDays(90)));
        if (start.isAfter(end)) {
            throw new AwsException("InvalidTimeRangeException", 400, "Start time must be before the end time.");
        }
        int max = 50;
        if (input.hasNonNull("MaxResults")) {
            max = input.path("MaxResults").asInt(0);
            if (max < 1 || max > 50) {
                throw new AwsException("InvalidMaxResultsException", 400, "MaxResults must be between 1 and 50.");
            }
        }
        Optional<Instant> beforeTime = Optional.empty();
        String beforeId = "";
        String token = input.path("NextToken").asText("");
        if (!token.isEmpty()) {
            try {
                String decoded = new String(java.util.Base64.getUrlDecoder().decode(token), java.nio.charset.StandardCharsets.UTF_8);
                int bar = decoded.indexOf('|');
                beforeTime = Optional.of(Instant.ofEpochMilli(Long.parseLong(decoded.substring(0, bar))));
                beforeId = decoded.substring(bar + 1);
            } catch (RuntimeException e) {
                throw new AwsException("InvalidNextTokenException", 400, "Invalid NextToken.");
            }
        }
        try {
            history.catchUp();
        } catch (java.io.IOException e) {
            throw new AwsException("InternalError", 500, "The event history could not be read.");
        }
        EventIndexRepository.Query q = new EventIndexRepository.Query(ctx.principal().account().value(), column, value, start, end, beforeTime,
                beforeId, max + 1);
        List<EventIndexRepository.IndexedEvent> found = store.read(h -> new EventIndexRepository(h).lookup(q));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode events = out.putArray("Events");
        for (EventIndexRepository.IndexedEvent e : found.subList(0, Math.min(max, found.size()))) {
            ObjectNode n = events.addObject();
            n.put("EventId", e.eventId()).put("EventName", e.eventName()).put("ReadOnly", Boolean.toString(e.readOnly()));
            if (!e.accessKeyId().isEmpty()) {
                n.put("AccessKeyId", e.accessKeyId());
            }
            n.put("EventTime", e.eventTime().getEpochSecond()).put("EventSource", e.eventSource());
            if (!e.username().isEmpty()) {
                n.put("Username", e.username());
            }
            ArrayNode resources = n.putArray("Resources");
            for (String line : e.resources().split("\n")) {
                int space = line.indexOf(' ');
                if (space > 0) {
                    resources.addObject().put("ResourceType", line.substring(0, space)).put("ResourceName", line.substring(space + 1));
                }
            }
            n.put("CloudTrailEvent", e.record());
        }
        if (found.size() > max) {
            EventIndexRepository.IndexedEvent last = found.get(max - 1);
            out.put("NextToken", java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (last.eventTime().toEpochMilli() + "|" + last.eventId()).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static Optional<Instant> time(ObjectNode input, String member) {
        JsonNode n = input.get(member);
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isNumber()) {
            throw new AwsException("InvalidTimeRangeException", 400, member + " must be a timestamp.");
        }
        return Optional.of(Instant.ofEpochMilli((long) (n.asDouble() * 1000)));
    }

    // ---- event selectors ----

    private static final java.util.Set<String> DATA_TYPES = java.util.Set.of("AWS::S3::Object", "AWS::SageMaker::Endpoint");

    JsonNode putEventSelectors(RequestContext ctx, ObjectNode input) {
        Trail t = requireTrail(ctx, input, "TrailName");
        refuseOperatorTrail(t);
        if (input.has("AdvancedEventSelectors")) {
            throw new AwsException("UnsupportedOperationException", 400, "Advanced event selectors are not available in Citadel; use "
                    + "EventSelectors.");
        }
        JsonNode given = input.path("EventSelectors");
        if (!given.isArray() || given.isEmpty() || given.size() > 5) {
            throw selectors("You must specify between 1 and 5 event selectors.");
        }
        ArrayNode normalized = JsonNodeFactory.instance.arrayNode();
        for (JsonNode s : given) {
            String rw = s.path("ReadWriteType").asText("All");
            if (!List.of("ReadOnly", "WriteOnly", "All").contains(rw)) {
                throw selectors("ReadWriteType must be ReadOnly, WriteOnly or All.");
            }
            ObjectNode n = normalized.addObject();
            n.put("ReadWriteType", rw);
            n.put("IncludeManagementEvents", s.path("IncludeManagementEvents").asBoolean(true));
            ArrayNode resources = n.putArray("DataResources");
            for (JsonNode r : s.path("DataResources")) {
                String type = r.path("Type").asText("");
                if (!DATA_TYPES.contains(type)) {
                    throw selectors("Value " + type + " for DataResources.Type is invalid.");
                }
                ArrayNode values = JsonNodeFactory.instance.arrayNode();
                for (JsonNode v : r.path("Values")) {
                    String value = v.asText("");
                    boolean ok = type.equals("AWS::S3::Object")
                            ? value.equals("arn:aws:s3") || value.matches("arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.*")
                            : value.equals("arn:aws:sagemaker") || value.startsWith("arn:aws:sagemaker:");
                    if (!ok) {
                        throw selectors("Value " + value + " for DataResources.Values is invalid.");
                    }
                    values.add(value);
                }
                if (values.size() > 250) {
                    throw selectors("A trail can name at most 250 data resources.");
                }
                resources.addObject().put("Type", type).set("Values", values);
            }
            ArrayNode excluded = n.putArray("ExcludeManagementEventSources");
            for (JsonNode e : s.path("ExcludeManagementEventSources")) {
                if (!List.of("kms.amazonaws.com", "rdsdata.amazonaws.com").contains(e.asText(""))) {
                    throw selectors("Value " + e.asText("") + " for ExcludeManagementEventSources is invalid.");
                }
                excluded.add(e.asText());
            }
        }
        Trail updated = new Trail(t.accountId(), t.name(), t.arn(), t.homeRegion(), t.s3Bucket(), t.s3KeyPrefix(), t.includeGlobalEvents(),
                t.multiRegion(), t.logFileValidation(), t.kmsKeyId(), normalized.toString(), t.logging(), t.startedAt(), t.stoppedAt(),
                t.createdAt());
        store.useTransaction(h -> new TrailRepository(h).update(updated));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("TrailARN", t.arn());
        out.set("EventSelectors", normalized);
        return out;
    }

    JsonNode getEventSelectors(RequestContext ctx, ObjectNode input) {
        Trail t = requireTrail(ctx, input, "TrailName");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("TrailARN", t.arn());
        try {
            out.set("EventSelectors", new com.fasterxml.jackson.databind.ObjectMapper().readTree(t.eventSelectors()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("stored event selectors are not JSON", e);
        }
        return out;
    }

    private static AwsException selectors(String message) {
        return new AwsException("InvalidEventSelectorsException", 400, message);
    }

    // ---- helpers ----

    private static boolean bool(ObjectNode input, String member, boolean otherwise) {
        JsonNode n = input.get(member);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (!n.isBoolean()) {
            throw new AwsException(INVALID, 400, member + " must be a boolean.");
        }
        return n.booleanValue();
    }

    private static void refuseUnsupported(ObjectNode input) {
        for (String member : List.of("SnsTopicName", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn")) {
            if (input.hasNonNull(member) && !input.path(member).asText("").isEmpty()) {
                throw new AwsException("UnsupportedOperationException", 400, member + " is not available in Citadel: trails deliver to S3.");
            }
        }
        if (input.path("IsOrganizationTrail").asBoolean(false)) {
            throw new AwsException("UnsupportedOperationException", 400, "Organization trails are not available yet; the operator trail "
                    + "records every account.");
        }
    }

    private static void checkPrefix(String prefix) {
        if (prefix.startsWith("/") || prefix.contains("//") || prefix.endsWith("/")) {
            throw new AwsException("InvalidS3PrefixException", 400, "Prefix " + prefix + " is not valid.");
        }
    }

    /**
     * The trail's bucket must exist and its policy must let cloudtrail.amazonaws.com read the
     * bucket ACL and put objects under {@code [prefix/]AWSLogs/<account>/}, as AWS requires.
     */
    private void checkBucket(String account, String trailArn, String bucket, String prefix) {
        Optional<PolicyAuthorizer.ResourceOwner> owner = buckets.owner("arn:aws:s3:::" + bucket);
        if (owner.isEmpty()) {
            throw new AwsException("S3BucketDoesNotExistException", 400, "S3 bucket " + bucket + " does not exist.");
        }
        String key = (prefix.isEmpty() ? "" : prefix + "/") + "AWSLogs/" + account + "/CloudTrail/example.json.gz";
        Map<String, List<String>> context = Map.of("aws:SourceArn", List.of(trailArn), "aws:SourceAccount", List.of(account),
                "s3:x-amz-acl", List.of("bucket-owner-full-control"), "aws:SecureTransport", List.of("true"));
        boolean allowed = owner.get().policy().map(policy ->
                PolicyEvaluator.evaluateAlone(policy, RequestFacts.ofService(SERVICE_PRINCIPAL, "s3:GetBucketAcl", "arn:aws:s3:::" + bucket, context))
                        .allowed()
                && PolicyEvaluator.evaluateAlone(policy, RequestFacts.ofService(SERVICE_PRINCIPAL, "s3:PutObject",
                        "arn:aws:s3:::" + bucket + "/" + key, context)).allowed()).orElse(false);
        if (!allowed) {
            throw new AwsException("InsufficientS3BucketPolicyException", 400, "Incorrect S3 bucket policy is detected for bucket: " + bucket);
        }
    }

    private static ObjectNode describe(Trail t, boolean full) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Name", t.name());
        n.put("S3BucketName", t.s3Bucket());
        if (!t.s3KeyPrefix().isEmpty()) {
            n.put("S3KeyPrefix", t.s3KeyPrefix());
        }
        n.put("IncludeGlobalServiceEvents", t.includeGlobalEvents());
        n.put("IsMultiRegionTrail", t.multiRegion());
        n.put("TrailARN", t.arn());
        n.put("LogFileValidationEnabled", t.logFileValidation());
        if (!t.kmsKeyId().isEmpty()) {
            n.put("KmsKeyId", t.kmsKeyId());
        }
        n.put("IsOrganizationTrail", false);
        if (full) {
            n.put("HomeRegion", t.homeRegion());
            n.put("HasCustomEventSelectors", !t.eventSelectors().equals(DEFAULT_SELECTORS));
            n.put("HasInsightSelectors", false);
        }
        return n;
    }

    private static double epochSeconds(Instant at) {
        return at.toEpochMilli() / 1000.0;
    }
}
