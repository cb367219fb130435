package dev.citadel.services.s3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.metadata.s3.S3Repository;
import dev.citadel.metadata.s3.S3Repository.Bucket;
import dev.citadel.metadata.s3.S3Repository.S3Object;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.protocol.S3Routes;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import dev.citadel.wire.XmlWriter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Amazon S3 (restXml, path style), the first part: buckets (create, head, delete, list,
 * location) and objects (put, get with ranges, head, delete, list v1 and v2 with prefix, delimiter
 * and pagination). Every object is a sealed blob under its account's S3-managed KMS key
 * ({@value #S3_KEY_ALIAS}, SSE-S3), bound to the object's ARN as encryption context; its metadata
 * is in the metadata store. A bucket belongs to the account that made it; the authorizer learns the
 * owner and the bucket policy from {@link #owner}, so another account needs both the bucket policy
 * and its own IAM policy, as in AWS. Multipart uploads keep each part as its own sealed blob and,
 * on completion, seal the parts in order into the object's blob. Bodies stream both ways: a PUT or
 * a part is sealed as it arrives (its signature, chunk signatures or trailer checksum checked as it
 * is read; nothing is kept when a check fails), and a GET decrypts only the segments its range
 * touches.
 */
public final class S3Service implements dev.citadel.services.iam.PolicyAuthorizer.ResourcePolicies {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("s3", "s3", "s3", Protocol.REST_XML, "", "2006-03-01",
            "http://s3.amazonaws.com/doc/2006-03-01/", "s3.amazonaws.com", false);
    public static final String S3_KEY_ALIAS = "alias/aws/s3";
    /** S3's limit for a single PUT and for one part. */
    public static final long MAX_PUT_BYTES = 5L << 30;
    private static final String XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern IP_LIKE = Pattern.compile("\\d+\\.\\d+\\.\\d+\\.\\d+");
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetadataStore store;
    private final KmsKeys keys;
    private final BlobStore blobs;
    private final java.util.concurrent.ConcurrentHashMap<String, CachedOwner> owners = new java.util.concurrent.ConcurrentHashMap<>();
    private static final long OWNER_TTL_NANOS = 5_000_000_000L;

    private record CachedOwner(Optional<dev.citadel.services.iam.PolicyAuthorizer.ResourceOwner> owner, long expiresAt) {
    }

    private final dev.citadel.pipeline.authz.Authorizer authorizer;

    /** @param authorizer decides the second permission CopyObject needs (s3:GetObject on the source) */
    public S3Service(MetadataStore store, KmsKeys keys, BlobStore blobs, dev.citadel.pipeline.authz.Authorizer authorizer) {
        this.store = store;
        this.keys = keys;
        this.blobs = blobs;
        this.authorizer = authorizer;
    }

    public List<Operation> operations() {
        return List.of(
                op("ListBuckets", "s3:ListAllMyBuckets", ResourceResolver.ALL, true, this::listBuckets),
                op("CreateBucket", "s3:CreateBucket", bucket(), false, this::createBucket),
                op("HeadBucket", "s3:ListBucket", bucket(), true, this::headBucket),
                op("DeleteBucket", "s3:DeleteBucket", bucket(), false, this::deleteBucket),
                op("GetBucketLocation", "s3:GetBucketLocation", bucket(), true, this::getBucketLocation),
                Operation.of(OperationSpec.builder("s3", "PutBucketPolicy").resources(bucket()).maxBodyBytes(20 * 1024).build(),
                        this::putBucketPolicy),
                op("GetBucketPolicy", "s3:GetBucketPolicy", bucket(), true, this::getBucketPolicy),
                op("DeleteBucketPolicy", "s3:DeleteBucketPolicy", bucket(), false, this::deleteBucketPolicy),
                op("ListObjects", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, false)),
                op("ListObjectsV2", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, true)),
                Operation.of(OperationSpec.builder("s3", "PutObject").resources(object()).maxBodyBytes(MAX_PUT_BYTES).streamingBody().build(),
                        this::putObject),
                op("GetObject", "s3:GetObject", object(), true, this::getObject),
                op("HeadObject", "s3:GetObject", object(), true, this::getObject),
                op("DeleteObject", "s3:DeleteObject", object(), false, this::deleteObject),
                Operation.of(OperationSpec.builder("s3", "DeleteObjects").action("s3:DeleteObject").resources(deletedObjects())
                        .maxBodyBytes(2 << 20).build(), this::deleteObjects),
                op("CopyObject", "s3:PutObject", object(), false, this::copyObject),
                op("UploadPartCopy", "s3:PutObject", object(), false, this::uploadPartCopy),
                op("GetObjectTagging", "s3:GetObjectTagging", object(), true, this::getObjectTagging),
                op("CreateMultipartUpload", "s3:PutObject", object(), false, this::createMultipartUpload),
                Operation.of(OperationSpec.builder("s3", "UploadPart").action("s3:PutObject").resources(object()).maxBodyBytes(MAX_PUT_BYTES)
                        .streamingBody().build(), this::uploadPart),
                Operation.of(OperationSpec.builder("s3", "CompleteMultipartUpload").action("s3:PutObject").resources(object())
                        .maxBodyBytes(1 << 20).build(), this::completeMultipartUpload),
                op("AbortMultipartUpload", "s3:AbortMultipartUpload", object(), false, this::abortMultipartUpload),
                op("ListParts", "s3:ListMultipartUploadParts", object(), true, this::listParts),
                op("ListMultipartUploads", "s3:ListBucketMultipartUploads", bucket(), true, this::listMultipartUploads));
    }

    private static Operation op(String name, String action, ResourceResolver resources, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("s3", name).action(action).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    private static ResourceResolver bucket() {
        return (ctx, input) -> List.of("arn:aws:s3:::" + input.path("Bucket").asText(""));
    }

    private static ResourceResolver object() {
        return (ctx, input) -> List.of("arn:aws:s3:::" + input.path("Bucket").asText("") + "/" + input.path("Key").asText(""));
    }

    /** DeleteObjects: s3:DeleteObject on every object named in the body (a malformed body names none; the handler refuses it). */
    private static ResourceResolver deletedObjects() {
        return (ctx, input) -> {
            String bucket = input.path("Bucket").asText("");
            List<String> arns = new java.util.ArrayList<>();
            try {
                for (JsonNode o : objectsToDelete(input)) {
                    arns.add("arn:aws:s3:::" + bucket + "/" + o.path("Key").asText(""));
                }
            } catch (AwsException e) {
                arns.clear();
            }
            return arns.isEmpty() ? List.of("arn:aws:s3:::" + bucket) : arns;
        };
    }

    private static List<JsonNode> objectsToDelete(ObjectNode input) {
        JsonNode xml = dev.citadel.wire.RestXml.read(body(input)).path("Delete");
        JsonNode objects = xml.path("Object");
        List<JsonNode> out = new java.util.ArrayList<>();
        if (objects.isArray()) {
            objects.forEach(out::add);
        } else if (objects.isObject()) {
            out.add(objects);
        }
        if (out.isEmpty() || out.size() > 1000) {
            throw new AwsException("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema");
        }
        return out;
    }

    // ---- helpers ----

    private static JsonNode respond(EncodedResponse response) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set(S3Routes.ENCODED, new POJONode(response));
        return out;
    }

    private static JsonNode xml(int status, XmlWriter w) {
        return respond(new EncodedResponse(status, Protocol.REST_XML.contentType(), Map.of(), w.toBytes()));
    }

    private static JsonNode empty(int status, Map<String, String> headers) {
        return respond(new EncodedResponse(status, "", headers, new byte[0]));
    }

    private static String header(ObjectNode input, String name) {
        return input.path("headers").path(name).asText(null);
    }

    private static String query(ObjectNode input, String name) {
        return input.path("query").path(name).asText(null);
    }

    /** The body of a streaming operation, checked (signature, chunk signatures, trailer checksum) as it is read. */
    private static java.io.InputStream bodyStream(ObjectNode input) {
        JsonNode b = input.get(S3Routes.BODY);
        if (b != null && b.isPojo() && ((POJONode) b).getPojo() instanceof java.io.InputStream in) {
            return in;
        }
        return new ByteArrayInputStream(body(input));
    }

    /**
     * Seals a streaming body into a new blob and checks Content-MD5 against what was read; a body
     * that fails a check leaves no blob behind and gets the error of that check.
     */
    private BlobStore.Written writeBody(ObjectNode input, Key key, Map<String, String> context) {
        String md5 = header(input, "content-md5");
        byte[] expected = null;
        if (md5 != null) {
            try {
                expected = Base64.getDecoder().decode(md5);
            } catch (IllegalArgumentException e) {
                expected = new byte[0];
            }
            if (expected.length != 16) {
                throw new AwsException("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
            }
        }
        BlobStore.Written written;
        try {
            written = blobs.write(bodyStream(input), key, context);
        } catch (dev.citadel.auth.AuthException e) {
            throw dev.citadel.pipeline.AuthErrors.toAwsException(e, Protocol.REST_XML);
        } catch (IOException e) {
            throw new AwsException("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.");
        }
        if (expected != null && !MessageDigest.isEqual(expected, HexFormat.of().parseHex(written.md5Hex()))) {
            deleteBlobQuietly(written.blobId());
            throw new AwsException("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
        }
        return written;
    }

    private static byte[] body(ObjectNode input) {
        JsonNode b = input.get(S3Routes.BODY);
        return b != null && b.isPojo() && ((POJONode) b).getPojo() instanceof byte[] bytes ? bytes : new byte[0];
    }

    private static String bucketName(ObjectNode input) {
        String name = input.path("Bucket").asText("");
        if (!BUCKET.matcher(name).matches() || name.contains("..") || name.contains(".-") || name.contains("-.") || IP_LIKE.matcher(name).matches()) {
            throw new AwsException("InvalidBucketName", 400, "The specified bucket is not valid.");
        }
        return name;
    }

    /** The bucket (authorization, with its owner and policy, has already been decided). */
    private Bucket requireBucket(RequestContext ctx, ObjectNode input) {
        String name = bucketName(input);
        return store.read(h -> new S3Repository(h).bucket(name))
                .orElseThrow(() -> new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"));
    }

    /**
     * At start, before serving: removes what interrupted writes left, and blobs that no metadata
     * refers to (written durably, but the server stopped before their metadata was committed, or
     * replaced and not yet deleted). Returns how many blobs were removed.
     */
    public int sweep() throws IOException {
        blobs.recover();
        java.util.Set<String> referenced = new java.util.HashSet<>(store.read(h -> new S3Repository(h).blobIds()));
        int removed = 0;
        for (String id : blobs.ids()) {
            if (!referenced.contains(id) && blobs.delete(id)) {
                removed++;
            }
        }
        return removed;
    }

    // ---- the authorizer's view: bucket owners and bucket policies ----

    @Override
    public Optional<dev.citadel.policy.PolicyEvaluator.Source> requiredPolicy(String action, String resource) {
        return Optional.empty();
    }

    @Override
    public Optional<dev.citadel.services.iam.PolicyAuthorizer.ResourceOwner> owner(String resource) {
        if (!resource.startsWith("arn:aws:s3:::") || resource.length() <= 13) {
            return Optional.empty();
        }
        String rest = resource.substring(13);
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        long now = System.nanoTime();
        CachedOwner c = owners.get(bucket);
        if (c == null || c.expiresAt - now <= 0) {
            Optional<dev.citadel.services.iam.PolicyAuthorizer.ResourceOwner> owner = store.read(h -> {
                S3Repository repo = new S3Repository(h);
                return repo.bucket(bucket).map(b -> new dev.citadel.services.iam.PolicyAuthorizer.ResourceOwner(b.accountId(),
                        repo.bucketPolicy(bucket).map(p -> new dev.citadel.policy.PolicyEvaluator.Source("the bucket policy of " + bucket,
                                parseStoredPolicy(p)))));
            });
            c = new CachedOwner(owner, now + OWNER_TTL_NANOS);
            if (owners.size() > 10_000) {
                owners.clear();
            }
            owners.put(bucket, c);
        }
        return c.owner;
    }

    private static dev.citadel.policy.Policy parseStoredPolicy(String document) {
        try {
            return dev.citadel.policy.PolicyParser.parse(document, dev.citadel.policy.PolicyParser.Kind.RESOURCE);
        } catch (dev.citadel.policy.MalformedPolicyException e) {
            return dev.citadel.policy.PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                    + "\"Action\":\"*\",\"Resource\":\"*\"}]}", dev.citadel.policy.PolicyParser.Kind.RESOURCE);
        }
    }

    JsonNode putBucketPolicy(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String policy = new String(body(input), java.nio.charset.StandardCharsets.UTF_8);
        if (policy.isBlank() || policy.length() > 20 * 1024) {
            throw new AwsException("MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'");
        }
        try {
            dev.citadel.policy.PolicyParser.parse(policy, dev.citadel.policy.PolicyParser.Kind.RESOURCE);
        } catch (dev.citadel.policy.MalformedPolicyException e) {
            throw new AwsException("MalformedPolicy", 400, e.getMessage());
        }
        store.useTransaction(h -> new S3Repository(h).setBucketPolicy(b.name(), Optional.of(policy)));
        owners.remove(b.name());
        return empty(204, Map.of());
    }

    JsonNode getBucketPolicy(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String policy = store.read(h -> new S3Repository(h).bucketPolicy(b.name()))
                .orElseThrow(() -> new AwsException("NoSuchBucketPolicy", 404, "The bucket policy does not exist"));
        return respond(new EncodedResponse(200, "application/json", Map.of(), policy.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    JsonNode deleteBucketPolicy(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        store.useTransaction(h -> new S3Repository(h).setBucketPolicy(b.name(), Optional.empty()));
        owners.remove(b.name());
        return empty(204, Map.of());
    }

    private static Map<String, String> context(String bucket, String key) {
        return Map.of("aws:s3:arn", "arn:aws:s3:::" + bucket + "/" + key);
    }

    private static String isoMillis(Instant t) {
        return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.MILLIS));
    }

    // ---- buckets ----

    JsonNode listBuckets(RequestContext ctx, ObjectNode input) {
        String account = ctx.principal().account().value();
        XmlWriter w = XmlWriter.document("ListAllMyBucketsResult", XMLNS);
        w.start("Owner").element("ID", account).element("DisplayName", account).end();
        w.start("Buckets");
        for (Bucket b : store.read(h -> new S3Repository(h).buckets(account))) {
            w.start("Bucket").element("Name", b.name()).element("CreationDate", isoMillis(b.createdAt())).end();
        }
        w.end();
        return xml(200, w);
    }

    JsonNode createBucket(RequestContext ctx, ObjectNode input) {
        String name = bucketName(input);
        byte[] body = body(input);
        if (body.length > 0) {
            ObjectNode config = dev.citadel.wire.RestXml.read(body);
            String location = config.path("CreateBucketConfiguration").path("LocationConstraint").asText("");
            if (!location.isEmpty() && !location.equals(ctx.region())) {
                throw new AwsException("IllegalLocationConstraintException", 400, "The " + location
                        + " location constraint is incompatible for the region specific endpoint this request was sent to.");
            }
        }
        String account = ctx.principal().account().value();
        try {
            store.useTransaction(h -> new S3Repository(h).insertBucket(new Bucket(name, account, ctx.region(), keys.now())));
            owners.remove(name);
        } catch (DuplicateKeyException e) {
            boolean mine = store.read(h -> new S3Repository(h).bucket(name)).map(b -> b.accountId().equals(account)).orElse(false);
            throw mine ? new AwsException("BucketAlreadyOwnedByYou", 409,
                    "Your previous request to create the named bucket succeeded and you already own it.")
                    : new AwsException("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared "
                    + "by all users of the system. Please select a different name and try again.");
        }
        return empty(200, Map.of("Location", "/" + name));
    }

    JsonNode headBucket(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        return empty(200, Map.of("x-amz-bucket-region", b.region()));
    }

    JsonNode deleteBucket(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        store.useTransaction(h -> {
            S3Repository repo = new S3Repository(h);
            if (repo.hasObjects(b.name()) || repo.hasUploads(b.name())) {
                throw new AwsException("BucketNotEmpty", 409, "The bucket you tried to delete is not empty");
            }
            repo.deleteBucket(b.name());
        });
        owners.remove(b.name());
        return empty(204, Map.of());
    }

    JsonNode getBucketLocation(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        XmlWriter w = XmlWriter.document("LocationConstraint", XMLNS);
        if (!b.region().equals("us-east-1")) {
            w.text(b.region());
        }
        return xml(200, w);
    }

    // ---- objects ----

    JsonNode putObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        boolean kms = "aws:kms".equals(header(input, "x-amz-server-side-encryption"));
        if (!kms || header(input, "x-amz-server-side-encryption-customer-algorithm") != null) {
            checkEncryptionHeaders(input);
        }
        ObjectNode metadata = userMetadata(input);
        Key s3Key = kms ? kmsKeyFor(ctx, b, header(input, "x-amz-server-side-encryption-aws-kms-key-id"), "kms:GenerateDataKey",
                "arn:aws:s3:::" + b.name() + "/" + key) : s3Key(b);
        BlobStore.Written written = writeBody(input, s3Key, context(b.name(), key));
        String contentType = Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream");
        S3Object o = new S3Object(b.name(), key, written.blobId(), written.length(), written.md5Hex(), written.sha256Hex(), contentType,
                metadata.toString(), s3Key.arn(), keys.now());
        Optional<String> replaced = store.inTransaction(h -> new S3Repository(h).putObject(o));
        replaced.ifPresent(this::deleteBlobQuietly);
        return empty(200, encryptionHeaders(Map.of("ETag", "\"" + written.md5Hex() + "\""), b, s3Key.arn()));
    }

    private static void checkContentMd5(ObjectNode input, byte[] body) {
        String md5 = header(input, "content-md5");
        if (md5 == null) {
            return;
        }
        byte[] expected;
        try {
            expected = Base64.getDecoder().decode(md5);
        } catch (IllegalArgumentException e) {
            throw new AwsException("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
        }
        if (expected.length != 16) {
            throw new AwsException("InvalidDigest", 400, "The Content-MD5 you specified was invalid.");
        }
        if (!MessageDigest.isEqual(expected, md5(body))) {
            throw new AwsException("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
        }
    }

    private static void checkEncryptionHeaders(ObjectNode input) {
        String sse = header(input, "x-amz-server-side-encryption");
        if (sse != null && !sse.equals("AES256")) {
            throw new AwsException("NotImplemented", 501, "SSE-KMS is available for PutObject; for this operation only SSE-S3 (AES256) is yet.");
        }
        if (header(input, "x-amz-server-side-encryption-customer-algorithm") != null) {
            throw new AwsException("InvalidRequest", 400, "Citadel does not accept customer-provided keys (SSE-C): objects are encrypted "
                    + "under KMS keys it holds.");
        }
    }

    private static ObjectNode userMetadata(ObjectNode input) {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        input.path("headers").properties().forEach(e -> {
            if (e.getKey().startsWith("x-amz-meta-")) {
                metadata.put(e.getKey().substring(11), e.getValue().asText());
            }
        });
        if (metadata.toString().length() > 2048) {
            throw new AwsException("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.");
        }
        return metadata;
    }

    /**
     * SSE-KMS: the customer key a PUT names (key id, ARN or alias; the account's {@code aws/s3} key
     * when none is named), after checking, as S3 does on the caller's behalf, that the caller may
     * use it: {@code kms:GenerateDataKey} to write and {@code kms:Decrypt} to read, with
     * {@code kms:ViaService} = {@code s3.<region>.amazonaws.com} and the object's ARN as
     * encryption context. The key policy and grants apply as for a direct call.
     */
    private Key kmsKeyFor(RequestContext ctx, Bucket b, String keyId, String action, String objectArn) {
        if (keyId == null || keyId.isEmpty()) {
            return s3Key(b);
        }
        String account = ctx.principal().account().value();
        String name = keyId;
        if (keyId.startsWith("arn:aws:kms:")) {
            String[] parts = keyId.split(":", 6);
            account = parts.length == 6 ? parts[4] : account;
            name = parts.length == 6 ? parts[5] : keyId;
        }
        String owner = account;
        String ref = name.startsWith("key/") ? name.substring(4) : name;
        Key key = (ref.startsWith("alias/") ? keys.aliasTarget(owner, ref).flatMap(keys::key)
                : keys.key(ref).filter(k -> k.accountId().equals(owner)))
                .orElseThrow(() -> new AwsException("KMS.NotFoundException", 400, "Invalid keyId " + keyId));
        if (!key.state().equals("Enabled")) {
            throw new AwsException("KMS.DisabledException", 400, key.arn() + " is " + key.state() + ".");
        }
        java.util.Map<String, List<String>> conditionKeys = new java.util.HashMap<>();
        dev.citadel.pipeline.RequestPipeline.globalConditionKeys(ctx, conditionKeys);
        conditionKeys.put("kms:ViaService", List.of("s3." + ctx.region() + ".amazonaws.com"));
        conditionKeys.put("kms:CallerAccount", List.of(ctx.principal().account().value()));
        conditionKeys.put("kms:EncryptionContext:aws:s3:arn", List.of(objectArn));
        conditionKeys.put("kms:EncryptionContextKeys", List.of("aws:s3:arn"));
        dev.citadel.pipeline.authz.AuthorizationDecision d = authorizer.authorize(new dev.citadel.pipeline.authz.AuthorizationRequest(
                ctx.principal(), action, List.of(key.arn()), conditionKeys));
        if (!d.allowed()) {
            throw new AwsException("AccessDenied", 403, "User: " + ctx.principal().arn() + " is not authorized to perform: " + action
                    + " on resource: " + key.arn() + " " + d.reason());
        }
        return key;
    }

    /** The SSE headers S3 answers with: AES256 for the account's S3 key, aws:kms and the key's ARN for a customer key. */
    private Map<String, String> encryptionHeaders(Map<String, String> base, Bucket b, String keyArn) {
        Map<String, String> out = new LinkedHashMap<>(base);
        if (keyArn.equals(s3Key(b).arn())) {
            out.put("x-amz-server-side-encryption", "AES256");
        } else {
            out.put("x-amz-server-side-encryption", "aws:kms");
            out.put("x-amz-server-side-encryption-aws-kms-key-id", keyArn);
        }
        return out;
    }

    private Key s3Key(Bucket b) {
        return keys.managedKey(b.accountId(), b.region(), S3_KEY_ALIAS, "Default key that protects S3 objects when no other key is defined");
    }

    // ---- multipart upload ----

    private static final long MIN_PART = 5L << 20;

    private static AwsException noSuchUpload() {
        return new AwsException("NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may "
                + "have been aborted or completed.");
    }

    private S3Repository.Upload requireUpload(Bucket b, ObjectNode input) {
        String id = Optional.ofNullable(query(input, "uploadId")).orElse("");
        String key = input.path("Key").asText("");
        return store.read(h -> new S3Repository(h).upload(id)).filter(u -> u.bucket().equals(b.name()) && u.key().equals(key))
                .orElseThrow(S3Service::noSuchUpload);
    }

    private static Map<String, String> partContext(String bucket, String key, String uploadId, int part) {
        return Map.of("aws:s3:arn", "arn:aws:s3:::" + bucket + "/" + key, "citadel:upload", uploadId + "/" + part);
    }

    JsonNode createMultipartUpload(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkEncryptionHeaders(input);
        String key = input.path("Key").asText("");
        String id = HexFormat.of().formatHex(keys.randomBytes(24));
        String contentType = Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream");
        S3Repository.Upload upload = new S3Repository.Upload(id, b.name(), key, contentType, userMetadata(input).toString(), keys.now());
        store.useTransaction(h -> new S3Repository(h).insertUpload(upload));
        XmlWriter w = XmlWriter.document("InitiateMultipartUploadResult", XMLNS);
        w.element("Bucket", b.name()).element("Key", key).element("UploadId", id);
        return respondWith(200, w, Map.of("x-amz-server-side-encryption", "AES256"));
    }

    JsonNode uploadPart(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        int part;
        try {
            part = Integer.parseInt(Optional.ofNullable(query(input, "partNumber")).orElse(""));
        } catch (NumberFormatException e) {
            part = 0;
        }
        if (part < 1 || part > 10_000) {
            throw new AwsException("InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive");
        }
        S3Repository.Upload upload = requireUpload(b, input);
        BlobStore.Written written = writeBody(input, s3Key(b), partContext(b.name(), upload.key(), upload.uploadId(), part));
        S3Repository.Part p = new S3Repository.Part(upload.uploadId(), part, written.blobId(), written.length(), written.md5Hex(), keys.now());
        Optional<String> replaced = store.inTransaction(h -> new S3Repository(h).putPart(p));
        replaced.ifPresent(this::deleteBlobQuietly);
        return empty(200, Map.of("ETag", "\"" + written.md5Hex() + "\"", "x-amz-server-side-encryption", "AES256"));
    }

    JsonNode completeMultipartUpload(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        S3Repository.Upload upload = requireUpload(b, input);
        ObjectNode xml = dev.citadel.wire.RestXml.read(body(input));
        JsonNode given = xml.path("CompleteMultipartUpload").path("Part");
        List<JsonNode> requested = new java.util.ArrayList<>();
        if (given.isArray()) {
            given.forEach(requested::add);
        } else if (given.isObject()) {
            requested.add(given);
        }
        if (requested.isEmpty()) {
            throw new AwsException("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema");
        }
        Map<Integer, S3Repository.Part> stored = new LinkedHashMap<>();
        store.read(h -> new S3Repository(h).parts(upload.uploadId())).forEach(p -> stored.put(p.partNumber(), p));
        List<S3Repository.Part> chosen = new java.util.ArrayList<>();
        int previous = 0;
        for (JsonNode r : requested) {
            int number = r.path("PartNumber").asInt(-1);
            String etag = r.path("ETag").asText("").replace("\"", "");
            if (number <= previous) {
                throw new AwsException("InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number.");
            }
            previous = number;
            S3Repository.Part p = stored.get(number);
            if (p == null || !p.etag().equals(etag)) {
                throw new AwsException("InvalidPart", 400, "One or more of the specified parts could not be found. The part may not have been "
                        + "uploaded, or the specified entity tag may not match the part's entity tag.");
            }
            chosen.add(p);
        }
        for (int i = 0; i < chosen.size() - 1; i++) {
            if (chosen.get(i).size() < MIN_PART) {
                throw new AwsException("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.");
            }
        }
        // The object is the parts in order, sealed again as one blob under the object's own context.
        java.util.Iterator<S3Repository.Part> parts = chosen.iterator();
        java.util.Enumeration<java.io.InputStream> streams = new java.util.Enumeration<>() {
            @Override
            public boolean hasMoreElements() {
                return parts.hasNext();
            }

            @Override
            public java.io.InputStream nextElement() {
                S3Repository.Part p = parts.next();
                try {
                    return java.nio.channels.Channels.newInputStream(blobs.read(p.blobId(), partContext(b.name(), upload.key(),
                            upload.uploadId(), p.partNumber())));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        Key s3Key = s3Key(b);
        BlobStore.Written written;
        try (java.io.InputStream all = new java.io.SequenceInputStream(streams)) {
            written = blobs.write(all, s3Key, context(b.name(), upload.key()));
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        java.io.ByteArrayOutputStream md5s = new java.io.ByteArrayOutputStream();
        chosen.forEach(p -> md5s.writeBytes(HexFormat.of().parseHex(p.etag())));
        String etag = hex(md5(md5s.toByteArray())) + "-" + chosen.size();
        S3Object o = new S3Object(b.name(), upload.key(), written.blobId(), written.length(), etag, written.sha256Hex(), upload.contentType(),
                upload.metadata(), s3Key.arn(), keys.now());
        List<String> obsolete = new java.util.ArrayList<>();
        store.useTransaction(h -> {
            S3Repository repo = new S3Repository(h);
            repo.putObject(o).ifPresent(obsolete::add);
            obsolete.addAll(repo.deleteUpload(upload.uploadId()));
        });
        obsolete.forEach(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CompleteMultipartUploadResult", XMLNS);
        w.element("Location", "/" + b.name() + "/" + upload.key()).element("Bucket", b.name()).element("Key", upload.key())
                .element("ETag", "\"" + etag + "\"");
        return respondWith(200, w, Map.of("x-amz-server-side-encryption", "AES256"));
    }

    JsonNode abortMultipartUpload(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        S3Repository.Upload upload = requireUpload(b, input);
        store.inTransaction(h -> new S3Repository(h).deleteUpload(upload.uploadId())).forEach(this::deleteBlobQuietly);
        return empty(204, Map.of());
    }

    JsonNode listParts(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        S3Repository.Upload upload = requireUpload(b, input);
        int marker = parseIntOr(query(input, "part-number-marker"), 0);
        int max = Math.min(1000, Math.max(0, parseIntOr(query(input, "max-parts"), 1000)));
        List<S3Repository.Part> parts = store.read(h -> new S3Repository(h).parts(upload.uploadId())).stream()
                .filter(p -> p.partNumber() > marker).toList();
        boolean truncated = parts.size() > max;
        List<S3Repository.Part> page = parts.subList(0, Math.min(max, parts.size()));
        XmlWriter w = XmlWriter.document("ListPartsResult", XMLNS);
        w.element("Bucket", b.name()).element("Key", upload.key()).element("UploadId", upload.uploadId())
                .element("PartNumberMarker", Integer.toString(marker))
                .element("NextPartNumberMarker", Integer.toString(page.isEmpty() ? marker : page.getLast().partNumber()))
                .element("MaxParts", Integer.toString(max)).element("IsTruncated", Boolean.toString(truncated)).element("StorageClass", "STANDARD");
        for (S3Repository.Part p : page) {
            w.start("Part").element("PartNumber", Integer.toString(p.partNumber())).element("LastModified", isoMillis(p.uploadedAt()))
                    .element("ETag", "\"" + p.etag() + "\"").element("Size", Long.toString(p.size())).end();
        }
        return xml(200, w);
    }

    JsonNode listMultipartUploads(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String prefix = Optional.ofNullable(query(input, "prefix")).orElse("");
        XmlWriter w = XmlWriter.document("ListMultipartUploadsResult", XMLNS);
        w.element("Bucket", b.name()).element("KeyMarker", "").element("UploadIdMarker", "").element("Prefix", prefix)
                .element("MaxUploads", "1000").element("IsTruncated", "false");
        for (S3Repository.Upload u : store.read(h -> new S3Repository(h).uploads(b.name()))) {
            if (u.key().startsWith(prefix)) {
                w.start("Upload").element("Key", u.key()).element("UploadId", u.uploadId()).element("StorageClass", "STANDARD")
                        .element("Initiated", isoMillis(u.initiatedAt())).end();
            }
        }
        return xml(200, w);
    }

    private static int parseIntOr(String s, int otherwise) {
        try {
            return s == null ? otherwise : Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new AwsException("InvalidArgument", 400, "Provided value is not an integer: " + s);
        }
    }

    private static JsonNode respondWith(int status, XmlWriter w, Map<String, String> headers) {
        return respond(new EncodedResponse(status, Protocol.REST_XML.contentType(), headers, w.toBytes()));
    }

    private void deleteBlobQuietly(String blobId) {
        try {
            blobs.delete(blobId);
        } catch (IOException e) {
            // An orphaned blob is unreachable (no metadata names it) and still sealed; a later sweep may remove it.
        }
    }

    /** GetObject and HeadObject: the object, or the range asked for, with its headers. */
    JsonNode getObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        S3Object o = store.read(h -> new S3Repository(h).object(b.name(), key))
                .orElseThrow(() -> new AwsException("NoSuchKey", 404, "The specified key does not exist."));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("ETag", "\"" + o.etag() + "\"");
        headers.put("Last-Modified", HTTP_DATE.format(o.lastModified()));
        headers.put("Accept-Ranges", "bytes");
        if (!o.kmsKeyArn().equals(s3Key(b).arn())) {
            // SSE-KMS: reading needs kms:Decrypt on the object's key, through S3, as in AWS.
            kmsKeyFor(ctx, b, o.kmsKeyArn(), "kms:Decrypt", "arn:aws:s3:::" + b.name() + "/" + key);
        }
        headers.putAll(encryptionHeaders(Map.of(), b, o.kmsKeyArn()));
        try {
            JSON.readTree(o.metadata()).properties().forEach(e -> headers.put("x-amz-meta-" + e.getKey(), e.getValue().asText()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (!preconditionsHold(input, o, headers)) {
            return empty(304, headers);
        }
        long start = 0;
        long end = o.size() - 1;
        int status = 200;
        String range = header(input, "range");
        if (range != null && o.size() > 0) {
            long[] r = parseRange(range, o.size());
            if (r != null) {
                start = r[0];
                end = r[1];
                status = 206;
                headers.put("Content-Range", "bytes " + start + "-" + end + "/" + o.size());
            }
        } else if (range != null) {
            throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
        }
        for (var e : input.path("query").properties()) {
            String override = switch (e.getKey()) {
                case "response-content-disposition" -> "Content-Disposition";
                case "response-content-encoding" -> "Content-Encoding";
                case "response-content-language" -> "Content-Language";
                case "response-cache-control" -> "Cache-Control";
                case "response-expires" -> "Expires";
                default -> null;
            };
            if (override != null) {
                headers.put(override, e.getValue().asText());
            }
        }
        String contentType = input.path("query").path("response-content-type").asText(o.contentType());
        boolean head = ctx.operation().name().equals("HeadObject");
        long length = o.size() == 0 ? 0 : end - start + 1;
        if (head) {
            headers.put("Content-Length", Long.toString(length));
            return respond(new EncodedResponse(status, contentType, headers, new byte[0]));
        }
        long from = start;
        // Opened here, so that a key that cannot decrypt is an error response rather than a broken body.
        SeekableByteChannel channel;
        try {
            channel = blobs.read(o.blobId(), context(b.name(), key));
            channel.position(from);
        } catch (IOException e) {
            throw new AwsException("KMS.KMSInvalidStateException", 400, "The object cannot be decrypted: its KMS key is not usable.");
        }
        // Streamed: only the segments the range touches are decrypted, a buffer at a time.
        return respond(EncodedResponse.streaming(status, contentType, headers, new EncodedResponse.StreamingBody() {
            @Override
            public long length() {
                return length;
            }

            @Override
            public void writeTo(java.io.OutputStream out) throws IOException {
                try (SeekableByteChannel c = channel) {
                    ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
                    long left = length;
                    while (left > 0) {
                        buffer.clear().limit((int) Math.min(buffer.capacity(), left));
                        int n = c.read(buffer);
                        if (n < 0) {
                            throw new IOException("the stored object ended early");
                        }
                        out.write(buffer.array(), 0, n);
                        left -= n;
                    }
                }
            }
        }));
    }

    /** If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, as S3 applies them. */
    private static boolean preconditionsHold(ObjectNode input, S3Object o, Map<String, String> headers) {
        String etag = "\"" + o.etag() + "\"";
        String ifMatch = header(input, "if-match");
        if (ifMatch != null && !ifMatch.equals("*") && !ifMatch.replace(" ", "").contains(etag)) {
            throw new AwsException("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
        }
        String ifNoneMatch = header(input, "if-none-match");
        if (ifNoneMatch != null && (ifNoneMatch.equals("*") || ifNoneMatch.replace(" ", "").contains(etag))) {
            return false;
        }
        Instant modified = o.lastModified().truncatedTo(ChronoUnit.SECONDS);
        String unmodifiedSince = header(input, "if-unmodified-since");
        if (ifMatch == null && unmodifiedSince != null) {
            Instant t = httpDate(unmodifiedSince);
            if (t != null && modified.isAfter(t)) {
                throw new AwsException("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
            }
        }
        String modifiedSince = header(input, "if-modified-since");
        if (ifNoneMatch == null && modifiedSince != null) {
            Instant t = httpDate(modifiedSince);
            return t == null || modified.isAfter(t);
        }
        return true;
    }

    private static Instant httpDate(String s) {
        try {
            return Instant.from(HTTP_DATE.parse(s));
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** {start, end} of a single {@code bytes=} range; null for a header S3 ignores; InvalidRange when it cannot be satisfied. */
    static long[] parseRange(String header, long size) {
        if (!header.startsWith("bytes=") || header.contains(",")) {
            return null;
        }
        String spec = header.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash);
            String z = spec.substring(dash + 1);
            long start;
            long end;
            if (a.isEmpty()) {
                long suffix = Long.parseLong(z);
                if (suffix <= 0) {
                    throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
                }
                start = Math.max(0, size - suffix);
                end = size - 1;
            } else {
                start = Long.parseLong(a);
                end = z.isEmpty() ? size - 1 : Math.min(Long.parseLong(z), size - 1);
                if (start >= size) {
                    throw new AwsException("InvalidRange", 416, "The requested range is not satisfiable");
                }
                if (end < start) {
                    return null;
                }
            }
            return new long[] {start, end};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    JsonNode deleteObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        store.inTransaction(h -> new S3Repository(h).deleteObject(b.name(), key)).ifPresent(this::deleteBlobQuietly);
        return empty(204, Map.of());
    }

    JsonNode deleteObjects(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        List<JsonNode> objects = objectsToDelete(input);
        boolean quiet = dev.citadel.wire.RestXml.read(body(input)).path("Delete").path("Quiet").asText("false").equalsIgnoreCase("true");
        XmlWriter w = XmlWriter.document("DeleteResult", XMLNS);
        for (JsonNode o : objects) {
            String key = o.path("Key").asText("");
            if (key.isEmpty() || key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > S3Routes.MAX_KEY_BYTES) {
                w.start("Error").element("Key", key).element("Code", key.isEmpty() ? "UserKeyMustBeSpecified" : "KeyTooLongError")
                        .element("Message", key.isEmpty() ? "The key must be specified." : "Your key is too long").end();
                continue;
            }
            store.inTransaction(h -> new S3Repository(h).deleteObject(b.name(), key)).ifPresent(this::deleteBlobQuietly);
            if (!quiet) {
                w.start("Deleted").element("Key", key).end();
            }
        }
        return xml(200, w);
    }

    JsonNode copyObject(RequestContext ctx, ObjectNode input) {
        Bucket destination = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        CopySource cs = copySource(ctx, input);
        Bucket sourceB = cs.bucket();
        S3Object src = cs.object();
        String sourceKey = src.key();
        checkEncryptionHeaders(input);
        boolean replace = "REPLACE".equals(header(input, "x-amz-metadata-directive"));
        if (!replace && sourceB.name().equals(destination.name()) && sourceKey.equals(key)) {
            throw new AwsException("InvalidRequest", 400, "This copy request is illegal because it is trying to copy an object to itself "
                    + "without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }
        Key s3Key = s3Key(destination);
        BlobStore.Written written;
        // Re-sealed under the destination's key and context as it is read from the source.
        try (java.io.InputStream in = java.nio.channels.Channels.newInputStream(blobs.read(src.blobId(), context(sourceB.name(), sourceKey)))) {
            written = blobs.write(in, s3Key, context(destination.name(), key));
        } catch (IOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        String contentType = replace ? Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream") : src.contentType();
        String metadata = replace ? userMetadata(input).toString() : src.metadata();
        String etag = src.etag().contains("-") ? written.md5Hex() : src.etag();
        S3Object o = new S3Object(destination.name(), key, written.blobId(), written.length(), etag, written.sha256Hex(), contentType, metadata,
                s3Key.arn(), keys.now());
        store.inTransaction(h -> new S3Repository(h).putObject(o)).ifPresent(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CopyObjectResult", XMLNS);
        w.element("LastModified", isoMillis(o.lastModified())).element("ETag", "\"" + etag + "\"");
        return respondWith(200, w, Map.of("x-amz-server-side-encryption", "AES256"));
    }

    private record CopySource(Bucket bucket, S3Object object) {
    }

    /** The object x-amz-copy-source names, after checking the caller may read it (s3:GetObject on the source). */
    private CopySource copySource(RequestContext ctx, ObjectNode input) {
        String source = header(input, "x-amz-copy-source");
        String decoded = java.net.URLDecoder.decode(source.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        if (decoded.startsWith("/")) {
            decoded = decoded.substring(1);
        }
        int q = decoded.indexOf("?versionId=");
        if (q >= 0) {
            decoded = decoded.substring(0, q);
        }
        int slash = decoded.indexOf('/');
        if (slash <= 0 || slash == decoded.length() - 1) {
            throw new AwsException("InvalidArgument", 400, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        }
        String sourceBucket = decoded.substring(0, slash);
        String sourceKey = decoded.substring(slash + 1);
        java.util.Map<String, List<String>> conditionKeys = new java.util.HashMap<>();
        dev.citadel.pipeline.RequestPipeline.globalConditionKeys(ctx, conditionKeys);
        dev.citadel.pipeline.authz.AuthorizationDecision d = authorizer.authorize(new dev.citadel.pipeline.authz.AuthorizationRequest(
                ctx.principal(), "s3:GetObject", List.of("arn:aws:s3:::" + sourceBucket + "/" + sourceKey), conditionKeys));
        if (!d.allowed()) {
            throw new AwsException("AccessDenied", 403, "Access Denied");
        }
        Bucket b = store.read(h -> new S3Repository(h).bucket(sourceBucket))
                .orElseThrow(() -> new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"));
        S3Object o = store.read(h -> new S3Repository(h).object(b.name(), sourceKey))
                .orElseThrow(() -> new AwsException("NoSuchKey", 404, "The specified key does not exist."));
        if (!o.kmsKeyArn().equals(s3Key(b).arn())) {
            kmsKeyFor(ctx, b, o.kmsKeyArn(), "kms:Decrypt", "arn:aws:s3:::" + b.name() + "/" + sourceKey);
        }
        return new CopySource(b, o);
    }

    JsonNode uploadPartCopy(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        int part = parseIntOr(query(input, "partNumber"), 0);
        if (part < 1 || part > 10_000) {
            throw new AwsException("InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive");
        }
        S3Repository.Upload upload = requireUpload(b, input);
        CopySource cs = copySource(ctx, input);
        long start = 0;
        long end = cs.object().size() - 1;
        String range = header(input, "x-amz-copy-source-range");
        if (range != null) {
            long[] r = parseRange(range, cs.object().size());
            if (r == null) {
                throw new AwsException("InvalidArgument", 400, "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
                        + "and last are the zero-based offsets of the first and last bytes to copy");
            }
            start = r[0];
            end = r[1];
        }
        long length = Math.max(0, end - start + 1);
        BlobStore.Written written;
        try (SeekableByteChannel c = blobs.read(cs.object().blobId(), context(cs.bucket().name(), cs.object().key()))) {
            c.position(start);
            java.io.InputStream in = new java.io.FilterInputStream(java.nio.channels.Channels.newInputStream(c)) {
                private long left = length;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = super.read(b, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }
            };
            written = blobs.write(in, s3Key(b), partContext(b.name(), upload.key(), upload.uploadId(), part));
        } catch (IOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        S3Repository.Part p = new S3Repository.Part(upload.uploadId(), part, written.blobId(), written.length(), written.md5Hex(), keys.now());
        store.inTransaction(h -> new S3Repository(h).putPart(p)).ifPresent(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CopyPartResult", XMLNS);
        w.element("LastModified", isoMillis(p.uploadedAt())).element("ETag", "\"" + written.md5Hex() + "\"");
        return xml(200, w);
    }

    /** GetObjectTagging: object tags are not stored yet, so the set is empty (the CLI asks before copying). */
    JsonNode getObjectTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        store.read(h -> new S3Repository(h).object(b.name(), key))
                .orElseThrow(() -> new AwsException("NoSuchKey", 404, "The specified key does not exist."));
        XmlWriter w = XmlWriter.document("Tagging", XMLNS);
        w.start("TagSet").end();
        return xml(200, w);
    }

    JsonNode listObjects(RequestContext ctx, ObjectNode input, boolean v2) {
        Bucket b = requireBucket(ctx, input);
        String prefix = Optional.ofNullable(query(input, "prefix")).orElse("");
        String delimiter = Optional.ofNullable(query(input, "delimiter")).orElse("");
        int maxKeys;
        try {
            maxKeys = Math.min(1000, Integer.parseInt(Optional.ofNullable(query(input, "max-keys")).orElse("1000")));
        } catch (NumberFormatException e) {
            throw new AwsException("InvalidArgument", 400, "Provided max-keys not an integer or within integer range");
        }
        if (maxKeys < 0) {
            throw new AwsException("InvalidArgument", 400, "Argument maxKeys must be an integer between 0 and 2147483647");
        }
        String token = query(input, "continuation-token");
        String after;
        if (v2 && token != null) {
            try {
                after = new String(Base64.getUrlDecoder().decode(token), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new AwsException("InvalidArgument", 400, "The continuation token provided is incorrect");
            }
        } else if (v2) {
            after = Optional.ofNullable(query(input, "start-after")).orElse("");
        } else {
            after = Optional.ofNullable(query(input, "marker")).orElse("");
        }
        boolean urlEncode = "url".equals(query(input, "encoding-type"));
        List<S3Object> contents = new java.util.ArrayList<>();
        TreeSet<String> prefixes = new TreeSet<>();
        String cursor = after;
        boolean truncated = false;
        String last = "";
        boolean more = maxKeys > 0;
        // A marker that is a common prefix stands for all its keys: they were listed as that prefix.
        String skipPrefix = !delimiter.isEmpty() && after.endsWith(delimiter) ? after : null;
        while (more && !truncated) {
            String from = cursor;
            List<S3Object> page = store.read(h -> new S3Repository(h).list(b.name(), prefix, from, 1000));
            more = page.size() == 1000;
            for (S3Object o : page) {
                cursor = o.key();
                if (skipPrefix != null && o.key().startsWith(skipPrefix)) {
                    continue;
                }
                String entry = o.key();
                boolean common = false;
                if (!delimiter.isEmpty()) {
                    int at = o.key().indexOf(delimiter, prefix.length());
                    if (at >= 0) {
                        entry = o.key().substring(0, at + delimiter.length());
                        common = true;
                        if (prefixes.contains(entry)) {
                            continue;
                        }
                    }
                }
                if (contents.size() + prefixes.size() >= maxKeys) {
                    truncated = true;
                    break;
                }
                if (common) {
                    prefixes.add(entry);
                } else {
                    contents.add(o);
                }
                last = entry;
            }
        }
        XmlWriter w = XmlWriter.document("ListBucketResult", XMLNS);
        w.element("Name", b.name());
        w.element("Prefix", enc(prefix, urlEncode));
        if (v2) {
            w.element("KeyCount", Integer.toString(contents.size() + prefixes.size()));
            if (token != null) {
                w.element("ContinuationToken", token);
            }
            if (query(input, "start-after") != null) {
                w.element("StartAfter", enc(query(input, "start-after"), urlEncode));
            }
        } else {
            w.element("Marker", enc(after, urlEncode));
        }
        w.element("MaxKeys", Integer.toString(maxKeys));
        if (!delimiter.isEmpty()) {
            w.element("Delimiter", enc(delimiter, urlEncode));
        }
        if (urlEncode) {
            w.element("EncodingType", "url");
        }
        w.element("IsTruncated", Boolean.toString(truncated));
        if (truncated) {
            if (v2) {
                w.element("NextContinuationToken", Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            } else if (!delimiter.isEmpty()) {
                w.element("NextMarker", enc(last, urlEncode));
            }
        }
        for (S3Object o : contents) {
            w.start("Contents").element("Key", enc(o.key(), urlEncode)).element("LastModified", isoMillis(o.lastModified()))
                    .element("ETag", "\"" + o.etag() + "\"").element("Size", Long.toString(o.size())).element("StorageClass", "STANDARD").end();
        }
        for (String p : prefixes) {
            w.start("CommonPrefixes").element("Prefix", enc(p, urlEncode)).end();
        }
        return xml(200, w);
    }

    private static String enc(String s, boolean url) {
        return url ? java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20") : s;
    }

    private static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
