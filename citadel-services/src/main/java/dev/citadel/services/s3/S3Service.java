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
                op("PutBucketVersioning", "s3:PutBucketVersioning", bucket(), false, this::putBucketVersioning),
                op("GetBucketVersioning", "s3:GetBucketVersioning", bucket(), true, this::getBucketVersioning),
                op("PutBucketEncryption", "s3:PutEncryptionConfiguration", bucket(), false, this::putBucketEncryption),
                op("GetBucketEncryption", "s3:GetEncryptionConfiguration", bucket(), true, this::getBucketEncryption),
                op("DeleteBucketEncryption", "s3:PutEncryptionConfiguration", bucket(), false, this::deleteBucketEncryption),
                op("PutBucketTagging", "s3:PutBucketTagging", bucket(), false, this::putBucketTagging),
                op("GetBucketTagging", "s3:GetBucketTagging", bucket(), true, this::getBucketTagging),
                op("DeleteBucketTagging", "s3:PutBucketTagging", bucket(), false, this::deleteBucketTagging),
                op("ListObjects", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, false)),
                op("ListObjectsV2", "s3:ListBucket", bucket(), true, (c, i) -> listObjects(c, i, true)),
                op("ListObjectVersions", "s3:ListBucketVersions", bucket(), true, this::listObjectVersions),
                Operation.of(OperationSpec.builder("s3", "PutObject").resources(object()).maxBodyBytes(MAX_PUT_BYTES).streamingBody().dataEvent()
                        .build(), this::putObject),
                versioned("GetObject", "s3:GetObject", "s3:GetObjectVersion", true, this::getObject),
                versioned("HeadObject", "s3:GetObject", "s3:GetObjectVersion", true, this::getObject),
                versioned("DeleteObject", "s3:DeleteObject", "s3:DeleteObjectVersion", false, this::deleteObject),
                Operation.of(OperationSpec.builder("s3", "DeleteObjects").action("s3:DeleteObject").resources(deletedObjects())
                        .authorizeEachResource().maxBodyBytes(2 << 20).dataEvent().build(), this::deleteObjects),
                objectOp("CopyObject", "s3:PutObject", false, this::copyObject),
                objectOp("UploadPartCopy", "s3:PutObject", false, this::uploadPartCopy),
                versioned("GetObjectTagging", "s3:GetObjectTagging", "s3:GetObjectVersionTagging", true, this::getObjectTagging),
                versioned("PutObjectTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging", false, this::putObjectTagging),
                versioned("DeleteObjectTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging", false, this::deleteObjectTagging),
                objectOp("CreateMultipartUpload", "s3:PutObject", false, this::createMultipartUpload),
                Operation.of(OperationSpec.builder("s3", "UploadPart").action("s3:PutObject").resources(object()).maxBodyBytes(MAX_PUT_BYTES)
                        .streamingBody().dataEvent().build(), this::uploadPart),
                Operation.of(OperationSpec.builder("s3", "CompleteMultipartUpload").action("s3:PutObject").resources(object())
                        .maxBodyBytes(1 << 20).dataEvent().build(), this::completeMultipartUpload),
                objectOp("AbortMultipartUpload", "s3:AbortMultipartUpload", false, this::abortMultipartUpload),
                objectOp("ListParts", "s3:ListMultipartUploadParts", true, this::listParts),
                op("ListMultipartUploads", "s3:ListBucketMultipartUploads", bucket(), true, this::listMultipartUploads));
    }

    private static Operation op(String name, String action, ResourceResolver resources, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("s3", name).action(action).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    /** An object-level operation: a data event in CloudTrail's sense. */
    private static Operation objectOp(String name, String action, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("s3", name).action(action).resources(object()).maxBodyBytes(64 * 1024).dataEvent();
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    /** An object-level operation governed by {@code versionAction} instead when the request names a version (?versionId=). */
    private static Operation versioned(String name, String action, String versionAction, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("s3", name).action(action).actionWhen("versionId", versionAction).resources(object())
                .maxBodyBytes(64 * 1024).dataEvent();
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
                for (S3Bodies.ToDelete o : S3Bodies.delete(body(input)).objects()) {
                    arns.add("arn:aws:s3:::" + bucket + "/" + o.key());
                }
            } catch (AwsException e) {
                arns.clear();
            }
            return arns.isEmpty() ? List.of("arn:aws:s3:::" + bucket) : arns;
        };
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

    /** A request body whose read failures are told apart from the blob store's own. */
    private static final class ClientBody extends java.io.FilterInputStream {
        /** What a failed read of the client's body is reported as. */
        private static final class ReadFailure extends IOException {
            private static final long serialVersionUID = 1L;

            ReadFailure(IOException cause) {
                super(cause.getMessage(), cause);
            }
        }

        ClientBody(java.io.InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (ReadFailure e) {
                throw e;
            } catch (IOException e) {
                throw new ReadFailure(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (ReadFailure e) {
                throw e;
            } catch (IOException e) {
                throw new ReadFailure(e);
            }
        }

        static boolean failedReading(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ReadFailure) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A stored body: the blob, and its additional checksum ({@code ALGORITHM:base64}) when one was asked for. */
    private record Stored(BlobStore.Written written, Optional<String> checksum) {
    }

    private static Map<String, String> headers(ObjectNode input) {
        Map<String, String> out = new java.util.HashMap<>();
        input.path("headers").properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /**
     * Seals a streaming body into a new blob and checks Content-MD5 and the additional checksum
     * ({@code x-amz-checksum-*} header, or trailer, already checked by the chunk decoder) against
     * what was read; a body that fails a check leaves no blob behind and gets the error of that
     * check. {@code required} is the checksum an upload's parts must carry.
     */
    private Stored writeBody(ObjectNode input, Key key, Map<String, String> context, Optional<Checksums.Algorithm> required) {
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
        Optional<Checksums.Requested> requested = Checksums.requested(headers(input));
        if (required.isPresent() && requested.isPresent() && requested.get().algorithm() != required.get()) {
            throw new AwsException("InvalidRequest", 400, "Checksum Type mismatch occurred, expected checksum Type: "
                    + required.get().name().toLowerCase(Locale.ROOT) + ", actual checksum Type: "
                    + requested.get().algorithm().name().toLowerCase(Locale.ROOT));
        }
        Optional<Checksums.Algorithm> algorithm = requested.map(Checksums.Requested::algorithm).or(() -> required);
        java.io.InputStream in = new ClientBody(bodyStream(input));
        Checksums.Computing computing = algorithm.map(a -> new Checksums.Computing(in, a)).orElse(null);
        BlobStore.Written written;
        try {
            written = blobs.write(computing != null ? computing : in, key, context);
        } catch (dev.citadel.auth.AuthException e) {
            throw dev.citadel.pipeline.AuthErrors.toAwsException(e, Protocol.REST_XML);
        } catch (IOException e) {
            if (ClientBody.failedReading(e)) {
                throw new AwsException("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.");
            }
            // The blob store failed (a full disk, an unreachable remote service): the server's fault, not the client's.
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        if (expected != null && !MessageDigest.isEqual(expected, HexFormat.of().parseHex(written.md5Hex()))) {
            deleteBlobQuietly(written.blobId());
            throw new AwsException("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
        }
        Optional<String> checksum = Optional.empty();
        if (computing != null) {
            byte[] value = computing.value();
            Optional<byte[]> claimed = requested.flatMap(Checksums.Requested::expected);
            if (claimed.isPresent() && !MessageDigest.isEqual(claimed.get(), value)) {
                deleteBlobQuietly(written.blobId());
                throw new AwsException("BadDigest", 400, "The " + algorithm.get().name() + " you specified did not match the calculated checksum.");
            }
            checksum = Optional.of(Checksums.format(algorithm.get(), Base64.getEncoder().encodeToString(value)));
        }
        return new Stored(written, checksum);
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
        java.util.Set<String> referenced = store.read(S3Service::referencedBlobs);
        int removed = 0;
        for (String id : blobs.ids()) {
            if (!referenced.contains(id) && blobs.delete(id)) {
                removed++;
            }
        }
        return removed;
    }

    /**
     * The ids of the blobs the S3 rows seen through {@code h} refer to: object versions, the parts
     * of multipart objects and the parts of uploads in progress. The sweep keeps these; a backup
     * copies them.
     */
    public static java.util.Set<String> referencedBlobs(org.jdbi.v3.core.Handle h) {
        return new java.util.HashSet<>(new S3Repository(h).blobIds());
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
        Sealing sealing = sealingFor(ctx, b, input, objectArn(b.name(), key));
        ObjectNode metadata = userMetadata(input);
        String tags = tagsFromHeader(ctx, input, objectArn(b.name(), key));
        Stored stored = writeBody(input, sealing.key(), context(b.name(), key), Optional.empty());
        BlobStore.Written written = stored.written();
        String contentType = Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream");
        Optional<String> checksum = stored.checksum();
        S3Object o = new S3Object(b.name(), key, newVersionId(b), false, written.blobId(), written.length(), written.md5Hex(),
                written.sha256Hex(), contentType, metadata.toString(), tags, sealing.encryption(), checksum, keys.now(), true, List.of());
        store.inTransaction(h -> new S3Repository(h).putVersion(o)).forEach(this::deleteBlobQuietly);
        Map<String, String> headers = new LinkedHashMap<>(encryptionHeaders(sealing.encryption()));
        headers.put("ETag", "\"" + written.md5Hex() + "\"");
        versionHeader(headers, b, o.versionId());
        checksum.ifPresent(c -> checksumHeaders(headers, c));
        return empty(200, headers);
    }

    /**
     * A write by an AWS service principal on its own behalf, such as CloudTrail delivering a log or
     * digest file. As in AWS, only the bucket policy can allow it: it must grant {@code principal}
     * s3:PutObject on the object under the given condition context ({@code aws:SourceArn},
     * {@code aws:SourceAccount}, {@code s3:x-amz-acl}). The object is sealed under {@code kmsKeyId}
     * (a key of {@code keyAccount}) when one is named, otherwise under the bucket's default
     * encryption; a customer key's policy must grant the principal kms:GenerateDataKey*. Refusals
     * are AwsExceptions with S3's or KMS's codes, and nothing is written.
     */
    public void putAsService(String principal, Map<String, List<String>> context, String bucket, String key, byte[] body, String contentType,
            Map<String, String> userMetadata, String keyAccount, String kmsKeyId) {
        Bucket b = store.read(h -> new S3Repository(h).bucket(bucket)).orElseThrow(() ->
                new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"));
        String arn = objectArn(bucket, key);
        boolean allowed = owner("arn:aws:s3:::" + bucket).flatMap(dev.citadel.services.iam.PolicyAuthorizer.ResourceOwner::policy)
                .map(policy -> dev.citadel.policy.PolicyEvaluator.evaluateAlone(policy,
                        dev.citadel.policy.RequestFacts.ofService(principal, "s3:PutObject", arn, context)).allowed())
                .orElse(false);
        if (!allowed) {
            throw new AwsException("AccessDenied", 403, "The bucket policy of " + bucket + " does not allow " + principal + " to write " + key);
        }
        S3Bodies.DefaultEncryption defaults = defaultEncryption(b);
        Sealing sealing;
        if (!kmsKeyId.isEmpty()) {
            Key k = serviceKey(principal, keyAccount, kmsKeyId, arn);
            sealing = new Sealing(k, new S3Repository.Encryption(k.arn(), "aws:kms", false));
        } else if (defaults.algorithm().equals("aws:kms") && defaults.kmsKeyId().isPresent()) {
            Key k = serviceKey(principal, b.accountId(), defaults.kmsKeyId().get(), arn);
            sealing = new Sealing(k, new S3Repository.Encryption(k.arn(), "aws:kms", defaults.bucketKeyEnabled()));
        } else {
            Key k = s3Key(b);
            sealing = new Sealing(k, new S3Repository.Encryption(k.arn(), defaults.algorithm(), defaults.algorithm().equals("aws:kms")
                    && defaults.bucketKeyEnabled()));
        }
        BlobStore.Written written;
        try {
            written = blobs.write(new ByteArrayInputStream(body), sealing.key(), context(bucket, key));
        } catch (dev.citadel.auth.AuthException | IOException e) {
            throw new AwsException("InternalError", 500, "The object could not be stored.");
        }
        ObjectNode metadata = JsonNodeFactory.instance.objectNode();
        userMetadata.forEach(metadata::put);
        S3Object o = new S3Object(bucket, key, newVersionId(b), false, written.blobId(), written.length(), written.md5Hex(), written.sha256Hex(),
                contentType, metadata.toString(), "{}", sealing.encryption(), Optional.empty(), keys.now(), true, List.of());
        store.inTransaction(h -> new S3Repository(h).putVersion(o)).forEach(this::deleteBlobQuietly);
    }

    /**
     * Makes a bucket of the operator's at start (the operator trail's) with its bucket policy, when
     * it does not exist yet; an existing bucket of the operator's is left as it is. A bucket of that
     * name owned by another account stops the start: its name is the operator's configuration.
     */
    public void ensureOperatorBucket(String account, String region, String name, String policy) {
        if (!BUCKET.matcher(name).matches() || name.contains("..")) {
            throw new IllegalArgumentException("'" + name + "' is not a valid bucket name");
        }
        store.useTransaction(h -> {
            S3Repository repo = new S3Repository(h);
            Optional<Bucket> existing = repo.bucket(name);
            if (existing.isPresent()) {
                if (!existing.get().accountId().equals(account)) {
                    throw new IllegalStateException("bucket " + name + " belongs to account " + existing.get().accountId()
                            + ", not to the operator's account " + account + "; configure another bucket for the operator trail");
                }
                return;
            }
            repo.insertBucket(new Bucket(name, account, region, keys.now()));
            repo.setBucketPolicy(name, Optional.of(policy));
        });
        owners.remove(name);
    }

    /** A customer key a service seals with on its own behalf: it must exist, be enabled, and its key policy must grant the service. */
    private Key serviceKey(String principal, String account, String keyId, String objectArn) {
        Key key = enabledKey(account, keyId);
        dev.citadel.policy.Policy policy;
        try {
            policy = dev.citadel.policy.PolicyParser.parse(key.policy(), dev.citadel.policy.PolicyParser.Kind.RESOURCE);
        } catch (dev.citadel.policy.MalformedPolicyException e) {
            throw new AwsException("KMS.AccessDeniedException", 400, "The key policy of " + key.arn() + " cannot be read.");
        }
        Map<String, List<String>> context = Map.of("kms:EncryptionContext:aws:s3:arn", List.of(objectArn),
                "kms:EncryptionContextKeys", List.of("aws:s3:arn"), "kms:ViaService", List.of("s3.amazonaws.com"));
        boolean allowed = dev.citadel.policy.PolicyEvaluator.evaluateAlone(new dev.citadel.policy.PolicyEvaluator.Source("the key policy of "
                + key.arn(), policy), dev.citadel.policy.RequestFacts.ofService(principal, "kms:GenerateDataKey", key.arn(), context)).allowed();
        if (!allowed) {
            throw new AwsException("InsufficientEncryptionPolicyException", 400, "The key policy of " + key.arn() + " does not allow "
                    + principal + " to use it.");
        }
        return key;
    }

    /**
     * The current version of an object's contents and user metadata, without a request: for the
     * operator's offline tools (`citadel audit verify`), which hold the data directory and its root
     * key already. Empty when there is no such object.
     */
    public Optional<StoredObject> readAsOperator(String bucket, String key) throws IOException {
        Optional<S3Object> found = store.read(h -> new S3Repository(h).object(bucket, key));
        if (found.isEmpty()) {
            return Optional.empty();
        }
        S3Object o = found.get();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (SeekableByteChannel ch = open(bucket, o)) {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (ch.read(buf) > 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JSON.readTree(o.metadata()).properties().forEach(e -> metadata.put(e.getKey(), e.getValue().asText()));
        return Optional.of(new StoredObject(out.toByteArray(), metadata));
    }

    /** The keys of current objects under a prefix, in key order, without a request (the operator's offline tools). */
    public List<String> listKeysAsOperator(String bucket, String prefix) {
        List<String> keys = new java.util.ArrayList<>();
        String after = "";
        while (true) {
            String from = after;
            List<S3Object> page = store.read(h -> new S3Repository(h).list(bucket, prefix, from, 1000));
            page.forEach(o -> keys.add(o.key()));
            if (page.size() < 1000) {
                return keys;
            }
            after = page.get(page.size() - 1).key();
        }
    }

    /** An object's plaintext and user metadata. */
    public record StoredObject(byte[] body, Map<String, String> metadata) {
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

    private static String objectArn(String bucket, String key) {
        return "arn:aws:s3:::" + bucket + "/" + key;
    }

    /** The key new contents are sealed under and how S3 reports it. */
    private record Sealing(Key key, S3Repository.Encryption encryption) {
    }

    /**
     * The encryption of an object being written: what the request's SSE headers ask for, or the
     * bucket's default encryption. SSE-KMS with a customer key needs kms:GenerateDataKey on it
     * (checked here, through S3, before the body is read); SSE-C is refused.
     */
    private Sealing sealingFor(RequestContext ctx, Bucket b, ObjectNode input, String objectArn) {
        if (header(input, "x-amz-server-side-encryption-customer-algorithm") != null
                || header(input, "x-amz-server-side-encryption-customer-key") != null) {
            throw new AwsException("InvalidRequest", 400, "Citadel does not accept customer-provided keys (SSE-C): objects are encrypted "
                    + "under KMS keys it holds.");
        }
        if (header(input, "x-amz-server-side-encryption-context") != null) {
            throw new AwsException("NotImplemented", 501, "A custom SSE-KMS encryption context is not available in Citadel; objects are bound "
                    + "to their ARN (aws:s3:arn).");
        }
        String requested = header(input, "x-amz-server-side-encryption");
        String keyId = header(input, "x-amz-server-side-encryption-aws-kms-key-id");
        String bucketKey = header(input, "x-amz-server-side-encryption-bucket-key-enabled");
        S3Bodies.DefaultEncryption defaults = defaultEncryption(b);
        String algorithm = requested != null ? requested : defaults.algorithm();
        switch (algorithm) {
            case "AES256" -> {
                if (keyId != null) {
                    throw new AwsException("InvalidArgument", 400, "Server Side Encryption with AWS KMS managed key requires HTTP header "
                            + "x-amz-server-side-encryption : aws:kms");
                }
                Key k = s3Key(b);
                return new Sealing(k, new S3Repository.Encryption(k.arn(), "AES256", false));
            }
            case "aws:kms" -> {
                Optional<String> id = keyId != null ? Optional.of(keyId) : requested == null ? defaults.kmsKeyId() : Optional.empty();
                Key k = id.isPresent() ? kmsKeyFor(ctx, b, id.get(), "kms:GenerateDataKey", objectArn) : s3Key(b);
                boolean bk = bucketKey != null ? bucketKey.equalsIgnoreCase("true") : defaults.bucketKeyEnabled();
                return new Sealing(k, new S3Repository.Encryption(k.arn(), "aws:kms", bk));
            }
            default -> throw new AwsException("InvalidArgument", 400, "The encryption method specified is not supported");
        }
    }

    /** The key contents sealed as {@code e} are (re)sealed under, with the caller's permission to use it checked. */
    private Key sealingKey(RequestContext ctx, Bucket b, S3Repository.Encryption e, String objectArn) {
        Key s3 = s3Key(b);
        return e.kmsKeyArn().isEmpty() || e.kmsKeyArn().equals(s3.arn()) ? s3 : kmsKeyFor(ctx, b, e.kmsKeyArn(), "kms:GenerateDataKey", objectArn);
    }

    /** Reading contents sealed under a customer key needs kms:Decrypt on it, through S3, as in AWS. */
    private void checkDecrypt(RequestContext ctx, Bucket b, S3Object o) {
        if (!o.encryption().kmsKeyArn().equals(s3Key(b).arn())) {
            kmsKeyFor(ctx, b, o.encryption().kmsKeyArn(), "kms:Decrypt", objectArn(b.name(), o.key()));
        }
    }

    private S3Bodies.DefaultEncryption defaultEncryption(Bucket b) {
        return b.encryption().map(json -> {
            try {
                return S3Bodies.DefaultEncryption.fromJson(JSON.readTree(json));
            } catch (IOException e) {
                throw new IllegalStateException("stored encryption rule is not JSON", e);
            }
        }).orElse(S3Bodies.DefaultEncryption.SSE_S3);
    }

    private String newVersionId(Bucket b) {
        return b.versioning().equals("Enabled") ? Base64.getUrlEncoder().withoutPadding().encodeToString(keys.randomBytes(24))
                : S3Repository.NULL_VERSION;
    }

    /** x-amz-version-id, on buckets that have (or had) versioning. */
    private static void versionHeader(Map<String, String> headers, Bucket b, String versionId) {
        if (!b.versioning().isEmpty()) {
            headers.put("x-amz-version-id", versionId);
        }
    }

    private static void checksumHeaders(Map<String, String> headers, String stored) {
        Map.Entry<Checksums.Algorithm, String> c = Checksums.parse(stored);
        headers.put(c.getKey().header(), c.getValue());
        headers.put("x-amz-checksum-type", c.getValue().contains("-") ? "COMPOSITE" : "FULL_OBJECT");
    }

    /**
     * The tag set of an {@code x-amz-tagging} header, as JSON; tagging an object as it is written
     * also needs s3:PutObjectTagging, as in AWS.
     */
    private String tagsFromHeader(RequestContext ctx, ObjectNode input, String objectArn) {
        String header = header(input, "x-amz-tagging");
        if (header == null) {
            return "{}";
        }
        Map<String, String> tags = S3Bodies.taggingHeader(header);
        if (!tags.isEmpty()) {
            requireAllowed(ctx, "s3:PutObjectTagging", objectArn);
        }
        return S3Bodies.tagsJson(tags).toString();
    }

    /** A second permission an operation needs, decided like the pipeline's (with the request's global condition keys). */
    private void requireAllowed(RequestContext ctx, String action, String resource) {
        if (!allowed(ctx, action, resource)) {
            throw new AwsException("AccessDenied", 403, "Access Denied");
        }
    }

    private boolean allowed(RequestContext ctx, String action, String resource) {
        java.util.Map<String, List<String>> conditionKeys = new java.util.HashMap<>();
        dev.citadel.pipeline.RequestPipeline.globalConditionKeys(ctx, conditionKeys);
        return authorizer.authorize(new dev.citadel.pipeline.authz.AuthorizationRequest(ctx.principal(), action, List.of(resource), conditionKeys))
                .allowed();
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
        Key key = enabledKey(ctx.principal().account().value(), keyId);
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

    /**
     * The enabled KMS key a key id, key ARN, alias name or alias ARN names; a bare id or alias is
     * looked up in {@code account}, an ARN in the account it names. KMS.NotFoundException and
     * KMS.DisabledException otherwise.
     */
    private Key enabledKey(String account, String keyId) {
        Key key = keys.resolve(account, keyId).orElseThrow(() -> new AwsException("KMS.NotFoundException", 400, "Invalid keyId " + keyId));
        if (!key.state().equals("Enabled")) {
            throw new AwsException("KMS.DisabledException", 400, key.arn() + " is " + key.state() + ".");
        }
        return key;
    }

    /** The SSE headers S3 answers with. */
    private static Map<String, String> encryptionHeaders(S3Repository.Encryption e) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("x-amz-server-side-encryption", e.algorithm().isEmpty() ? "AES256" : e.algorithm());
        if (e.algorithm().equals("aws:kms")) {
            out.put("x-amz-server-side-encryption-aws-kms-key-id", e.kmsKeyArn());
            if (e.bucketKey()) {
                out.put("x-amz-server-side-encryption-bucket-key-enabled", "true");
            }
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

    /** The checksum an upload's parts carry, and whether the object's is of the whole object (else composite). */
    private record UploadChecksum(Checksums.Algorithm algorithm, boolean fullObject) {
        static Optional<UploadChecksum> of(Optional<String> stored) {
            return stored.map(v -> {
                String[] parts = v.split(" ");
                return new UploadChecksum(Checksums.Algorithm.valueOf(parts[0]), parts.length > 1 && parts[1].equals("FULL_OBJECT"));
            });
        }

        String stored() {
            return algorithm.name() + (fullObject ? " FULL_OBJECT" : "");
        }
    }

    /** The plaintext of a version: its blob, or its parts in order. */
    private SeekableByteChannel open(String bucket, S3Object o) throws IOException {
        if (o.blobId() != null) {
            return blobs.read(o.blobId(), context(bucket, o.key()));
        }
        return new PartsChannel(o.parts(), p -> blobs.read(p.blobId(), partContext(bucket, o.key(), p.uploadId(), p.partNumber())));
    }

    JsonNode createMultipartUpload(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String key = input.path("Key").asText("");
        Sealing sealing = sealingFor(ctx, b, input, objectArn(b.name(), key));
        String tags = tagsFromHeader(ctx, input, objectArn(b.name(), key));
        Optional<UploadChecksum> checksum = Optional.empty();
        String algorithm = header(input, "x-amz-checksum-algorithm");
        String type = header(input, "x-amz-checksum-type");
        if (algorithm != null) {
            Checksums.Algorithm a = Checksums.Algorithm.named(algorithm).orElseThrow(() -> new AwsException("InvalidRequest", 400,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, SHA1, SHA256]"));
            boolean full = "FULL_OBJECT".equals(type);
            if (type != null && !full && !type.equals("COMPOSITE")) {
                throw new AwsException("InvalidRequest", 400, "Value for x-amz-checksum-type header is invalid.");
            }
            if (full && (a == Checksums.Algorithm.SHA1 || a == Checksums.Algorithm.SHA256)) {
                throw new AwsException("InvalidRequest", 400, "The FULL_OBJECT checksum type cannot be used with the " + a.name().toLowerCase(Locale.ROOT)
                        + " checksum algorithm.");
            }
            checksum = Optional.of(new UploadChecksum(a, full));
        } else if (type != null) {
            throw new AwsException("InvalidRequest", 400, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
        }
        String id = HexFormat.of().formatHex(keys.randomBytes(24));
        String contentType = Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream");
        S3Repository.Upload upload = new S3Repository.Upload(id, b.name(), key, contentType, userMetadata(input).toString(), keys.now(),
                sealing.encryption(), checksum.map(UploadChecksum::stored), tags);
        store.useTransaction(h -> new S3Repository(h).insertUpload(upload));
        XmlWriter w = XmlWriter.document("InitiateMultipartUploadResult", XMLNS);
        w.element("Bucket", b.name()).element("Key", key).element("UploadId", id);
        Map<String, String> headers = new LinkedHashMap<>(encryptionHeaders(sealing.encryption()));
        checksum.ifPresent(c -> {
            headers.put("x-amz-checksum-algorithm", c.algorithm().name());
            headers.put("x-amz-checksum-type", c.fullObject() ? "FULL_OBJECT" : "COMPOSITE");
        });
        return respondWith(200, w, headers);
    }

    /** How an upload's parts and object are sealed (uploads begun before encryption was recorded use the S3 key). */
    private static S3Repository.Encryption uploadEncryption(S3Repository.Upload upload) {
        return upload.encryption().kmsKeyArn().isEmpty() ? S3Repository.Encryption.NONE : upload.encryption();
    }

    private static int partNumber(ObjectNode input) {
        int part;
        try {
            part = Integer.parseInt(Optional.ofNullable(query(input, "partNumber")).orElse(""));
        } catch (NumberFormatException e) {
            part = 0;
        }
        if (part < 1 || part > 10_000) {
            throw new AwsException("InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive");
        }
        return part;
    }

    JsonNode uploadPart(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        int part = partNumber(input);
        S3Repository.Upload upload = requireUpload(b, input);
        S3Repository.Encryption encryption = uploadEncryption(upload);
        Key key = sealingKey(ctx, b, encryption, objectArn(b.name(), upload.key()));
        Optional<UploadChecksum> checksum = UploadChecksum.of(upload.checksumAlgorithm());
        Stored stored = writeBody(input, key, partContext(b.name(), upload.key(), upload.uploadId(), part),
                checksum.map(UploadChecksum::algorithm));
        BlobStore.Written written = stored.written();
        // A part keeps its checksum only when its upload has an algorithm (a part's own, otherwise, was verified and is not kept).
        Optional<String> partChecksum = checksum.isPresent() ? stored.checksum().map(c -> Checksums.parse(c).getValue()) : Optional.empty();
        S3Repository.Part p = new S3Repository.Part(upload.uploadId(), part, written.blobId(), written.length(), written.md5Hex(), keys.now(),
                partChecksum);
        store.inTransaction(h -> new S3Repository(h).putPart(p)).ifPresent(this::deleteBlobQuietly);
        Map<String, String> headers = new LinkedHashMap<>(encryptionHeaders(encryption));
        headers.put("ETag", "\"" + written.md5Hex() + "\"");
        stored.checksum().ifPresent(c -> headers.put(Checksums.parse(c).getKey().header(), Checksums.parse(c).getValue()));
        return empty(200, headers);
    }

    JsonNode completeMultipartUpload(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        S3Repository.Upload upload = requireUpload(b, input);
        List<S3Bodies.CompletedPart> requested = S3Bodies.completedParts(body(input));
        Optional<UploadChecksum> checksum = UploadChecksum.of(upload.checksumAlgorithm());
        Map<Integer, S3Repository.Part> stored = new LinkedHashMap<>();
        store.read(h -> new S3Repository(h).parts(upload.uploadId())).forEach(p -> stored.put(p.partNumber(), p));
        List<S3Repository.Part> chosen = new java.util.ArrayList<>();
        int previous = 0;
        for (S3Bodies.CompletedPart r : requested) {
            if (r.number() <= previous) {
                throw new AwsException("InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number.");
            }
            previous = r.number();
            S3Repository.Part p = stored.get(r.number());
            if (p == null || !p.etag().equals(r.etag())) {
                throw invalidPart();
            }
            if (checksum.isPresent() && !checksum.get().fullObject()) {
                String given = r.checksums().get(checksum.get().algorithm().name());
                if (given == null) {
                    throw new AwsException("InvalidRequest", 400, "The upload was created using a " + checksum.get().algorithm().name()
                            .toLowerCase(Locale.ROOT) + " checksum. The complete request must include the checksum for each part. It was missing "
                            + "for part " + r.number() + " in the request.");
                }
                if (p.checksum().isEmpty() || !p.checksum().get().equals(given)) {
                    throw invalidPart();
                }
            }
            chosen.add(p);
        }
        for (int i = 0; i < chosen.size() - 1; i++) {
            if (chosen.get(i).size() < MIN_PART) {
                throw new AwsException("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.");
            }
        }
        S3Repository.Encryption encryption = uploadEncryption(upload);
        // The caller must still be able to use the key the parts are sealed under.
        Key key = sealingKey(ctx, b, encryption, objectArn(b.name(), upload.key()));
        // The object is its parts, in order, as they were sealed: completing seals nothing again.
        List<S3Repository.StoredPart> parts = chosen.stream()
                .map(p -> new S3Repository.StoredPart(upload.uploadId(), p.partNumber(), p.blobId(), p.size())).toList();
        long size = parts.stream().mapToLong(S3Repository.StoredPart::size).sum();
        Optional<String> objectChecksum = Optional.empty();
        if (checksum.isPresent() && checksum.get().fullObject()) {
            Checksums.Algorithm a = checksum.get().algorithm();
            byte[] value;
            try (Checksums.Computing whole = new Checksums.Computing(java.nio.channels.Channels.newInputStream(
                    new PartsChannel(parts, p -> blobs.read(p.blobId(), partContext(b.name(), upload.key(), p.uploadId(), p.partNumber())))), a)) {
                whole.transferTo(java.io.OutputStream.nullOutputStream());
                value = whole.value();
            } catch (IOException e) {
                throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
            }
            String claimed = header(input, a.header());
            if (claimed != null && !MessageDigest.isEqual(Checksums.decode(a, claimed), value)) {
                throw new AwsException("BadDigest", 400, "The " + a.name() + " you specified did not match the calculated checksum.");
            }
            objectChecksum = Optional.of(Checksums.format(a, Base64.getEncoder().encodeToString(value)));
        } else if (checksum.isPresent()) {
            objectChecksum = Optional.of(Checksums.format(checksum.get().algorithm(), Checksums.composite(checksum.get().algorithm(),
                    chosen.stream().map(p -> p.checksum().orElseThrow()).toList())));
        }
        java.io.ByteArrayOutputStream md5s = new java.io.ByteArrayOutputStream();
        chosen.forEach(p -> md5s.writeBytes(HexFormat.of().parseHex(p.etag())));
        String etag = hex(md5(md5s.toByteArray())) + "-" + chosen.size();
        S3Object o = new S3Object(b.name(), upload.key(), newVersionId(b), false, null, size, etag, "", upload.contentType(), upload.metadata(),
                upload.tags(), new S3Repository.Encryption(key.arn(), encryption.algorithm().isEmpty() ? "AES256" : encryption.algorithm(),
                encryption.bucketKey()), objectChecksum, keys.now(), true, parts);
        java.util.Set<String> kept = new java.util.HashSet<>(o.blobIds());
        List<String> obsolete = new java.util.ArrayList<>();
        store.useTransaction(h -> {
            S3Repository repo = new S3Repository(h);
            obsolete.addAll(repo.putVersion(o));
            repo.deleteUpload(upload.uploadId()).stream().filter(id -> !kept.contains(id)).forEach(obsolete::add);
        });
        obsolete.forEach(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CompleteMultipartUploadResult", XMLNS);
        w.element("Location", "/" + b.name() + "/" + upload.key()).element("Bucket", b.name()).element("Key", upload.key())
                .element("ETag", "\"" + etag + "\"");
        objectChecksum.ifPresent(c -> {
            Map.Entry<Checksums.Algorithm, String> e = Checksums.parse(c);
            w.element(e.getKey().member(), e.getValue()).element("ChecksumType", e.getValue().contains("-") ? "COMPOSITE" : "FULL_OBJECT");
        });
        Map<String, String> headers = new LinkedHashMap<>(encryptionHeaders(o.encryption()));
        versionHeader(headers, b, o.versionId());
        return respondWith(200, w, headers);
    }

    private static AwsException invalidPart() {
        return new AwsException("InvalidPart", 400, "One or more of the specified parts could not be found. The part may not have been "
                + "uploaded, or the specified entity tag may not match the part's entity tag.");
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
        S3Object o = requireVersion(b, key, query(input, "versionId"));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("ETag", "\"" + o.etag() + "\"");
        headers.put("Last-Modified", HTTP_DATE.format(o.lastModified()));
        headers.put("Accept-Ranges", "bytes");
        checkDecrypt(ctx, b, o);
        headers.putAll(encryptionHeaders(o.encryption()));
        versionHeader(headers, b, o.versionId());
        int tagCount = parseJson(o.tags()).size();
        if (tagCount > 0) {
            headers.put("x-amz-tagging-count", Integer.toString(tagCount));
        }
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
        if (status == 200 && o.checksum().isPresent() && "ENABLED".equalsIgnoreCase(header(input, "x-amz-checksum-mode"))) {
            checksumHeaders(headers, o.checksum().get());
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
            channel = open(b.name(), o);
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
    static boolean preconditionsHold(ObjectNode input, S3Object o, Map<String, String> headers) {
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

    private static ObjectNode parseJson(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("stored JSON is not an object", e);
        }
    }

    /**
     * The version a request names, or the key's current object: NoSuchKey when there is none (the
     * latest version is a delete marker), NoSuchVersion for an unknown version, and
     * MethodNotAllowed for a delete marker named by its version id, as S3 answers.
     */
    private S3Object requireVersion(Bucket b, String key, String versionId) {
        if (versionId == null) {
            return store.read(h -> new S3Repository(h).object(b.name(), key))
                    .orElseThrow(() -> new AwsException("NoSuchKey", 404, "The specified key does not exist."));
        }
        checkVersionId(versionId);
        S3Object o = store.read(h -> new S3Repository(h).version(b.name(), key, versionId))
                .orElseThrow(() -> new AwsException("NoSuchVersion", 404, "The specified version does not exist."));
        if (o.deleteMarker()) {
            throw new AwsException("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
        }
        return o;
    }

    private static final Pattern VERSION_ID = Pattern.compile("null|[A-Za-z0-9_-]{32}");

    private static void checkVersionId(String versionId) {
        if (!VERSION_ID.matcher(versionId).matches()) {
            throw new AwsException("InvalidArgument", 400, "Invalid version id specified");
        }
    }

    /** What a delete did: the version it removed or the delete marker it added. */
    private record Deletion(String versionId, boolean deleteMarker) {
    }

    /**
     * Deletes a version for good (when one is named), or the key: removed outright in a bucket
     * that never had versioning, hidden behind a new delete marker when versioning is enabled,
     * and behind a {@code null} delete marker (replacing the null version) when it is suspended.
     */
    private Deletion delete(Bucket b, String key, Optional<String> versionId) {
        if (versionId.isPresent()) {
            checkVersionId(versionId.get());
            Optional<S3Object> removed = store.inTransaction(h -> new S3Repository(h).deleteVersion(b.name(), key, versionId.get()));
            removed.ifPresent(r -> r.blobIds().forEach(this::deleteBlobQuietly));
            return new Deletion(versionId.get(), removed.map(S3Object::deleteMarker).orElse(false));
        }
        if (b.versioning().isEmpty()) {
            store.inTransaction(h -> new S3Repository(h).deleteVersion(b.name(), key, S3Repository.NULL_VERSION))
                    .ifPresent(r -> r.blobIds().forEach(this::deleteBlobQuietly));
            return new Deletion(S3Repository.NULL_VERSION, false);
        }
        S3Object marker = S3Object.deleteMarker(b.name(), key, newVersionId(b), keys.now());
        store.inTransaction(h -> new S3Repository(h).putVersion(marker)).forEach(this::deleteBlobQuietly);
        return new Deletion(marker.versionId(), true);
    }

    JsonNode deleteObject(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String versionId = query(input, "versionId");
        Deletion d = delete(b, input.path("Key").asText(""), Optional.ofNullable(versionId));
        Map<String, String> headers = new LinkedHashMap<>();
        if (versionId != null || !b.versioning().isEmpty()) {
            headers.put("x-amz-version-id", d.versionId());
        }
        if (d.deleteMarker()) {
            headers.put("x-amz-delete-marker", "true");
        }
        return empty(204, headers);
    }

    /**
     * DeleteObjects: the pipeline has decided s3:DeleteObject for each key on its own and names
     * the refused ones; a key named with a version also needs s3:DeleteObjectVersion. A refused
     * key is reported as AccessDenied alone and the others are deleted, as in S3.
     */
    JsonNode deleteObjects(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        S3Bodies.DeleteRequest request = S3Bodies.delete(body(input));
        JsonNode refusedNode = input.get(dev.citadel.pipeline.RequestPipeline.REFUSED_RESOURCES);
        if (refusedNode == null || !refusedNode.isArray()) {
            throw new IllegalStateException("DeleteObjects reached its handler without per-key authorization");
        }
        java.util.Set<String> refused = new java.util.HashSet<>();
        refusedNode.forEach(r -> refused.add(r.asText()));
        XmlWriter w = XmlWriter.document("DeleteResult", XMLNS);
        for (S3Bodies.ToDelete o : request.objects()) {
            String key = o.key();
            if (key.isEmpty() || key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > S3Routes.MAX_KEY_BYTES) {
                w.start("Error").element("Key", key).element("Code", key.isEmpty() ? "UserKeyMustBeSpecified" : "KeyTooLongError")
                        .element("Message", key.isEmpty() ? "The key must be specified." : "Your key is too long").end();
                continue;
            }
            if (refused.contains(objectArn(b.name(), key))
                    || o.versionId().isPresent() && !allowed(ctx, "s3:DeleteObjectVersion", objectArn(b.name(), key))) {
                w.start("Error").element("Key", key);
                o.versionId().ifPresent(v -> w.element("VersionId", v));
                w.element("Code", "AccessDenied").element("Message", "Access Denied").end();
                continue;
            }
            Deletion d;
            try {
                d = delete(b, key, o.versionId());
            } catch (AwsException e) {
                w.start("Error").element("Key", key).element("Code", e.code()).element("Message", e.getMessage()).end();
                continue;
            }
            if (!request.quiet()) {
                w.start("Deleted").element("Key", key);
                o.versionId().ifPresent(v -> w.element("VersionId", v));
                if (d.deleteMarker()) {
                    w.element("DeleteMarker", "true").element("DeleteMarkerVersionId", d.versionId());
                }
                w.end();
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
        boolean replace = "REPLACE".equals(header(input, "x-amz-metadata-directive"));
        boolean newEncryption = header(input, "x-amz-server-side-encryption") != null;
        if (!replace && !newEncryption && sourceB.name().equals(destination.name()) && sourceKey.equals(key)) {
            throw new AwsException("InvalidRequest", 400, "This copy request is illegal because it is trying to copy an object to itself "
                    + "without changing the object's metadata, storage class, website redirect location or encryption attributes.");
        }
        Sealing sealing = sealingFor(ctx, destination, input, objectArn(destination.name(), key));
        String tags = "REPLACE".equals(header(input, "x-amz-tagging-directive")) ? tagsFromHeader(ctx, input, objectArn(destination.name(), key))
                : src.tags();
        // The checksum the request asks for, or else the source's own algorithm (computed anew over the copy).
        Optional<Checksums.Algorithm> algorithm = Optional.ofNullable(header(input, "x-amz-checksum-algorithm"))
                .map(n -> Checksums.Algorithm.named(n).orElseThrow(() -> new AwsException("InvalidRequest", 400,
                        "Value for x-amz-checksum-algorithm header is invalid.")))
                .or(() -> src.checksum().map(c -> Checksums.parse(c).getKey()));
        BlobStore.Written written;
        Checksums.Computing computing = null;
        // Re-sealed under the destination's key and context as it is read from the source.
        try (java.io.InputStream in = java.nio.channels.Channels.newInputStream(open(sourceB.name(), src))) {
            java.io.InputStream plain = in;
            if (algorithm.isPresent()) {
                computing = new Checksums.Computing(in, algorithm.get());
                plain = computing;
            }
            written = blobs.write(plain, sealing.key(), context(destination.name(), key));
        } catch (IOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        Optional<String> checksum = computing == null ? Optional.empty()
                : Optional.of(Checksums.format(algorithm.get(), Base64.getEncoder().encodeToString(computing.value())));
        String contentType = replace ? Optional.ofNullable(header(input, "content-type")).orElse("binary/octet-stream") : src.contentType();
        String metadata = replace ? userMetadata(input).toString() : src.metadata();
        String etag = src.etag().contains("-") ? written.md5Hex() : src.etag();
        S3Object o = new S3Object(destination.name(), key, newVersionId(destination), false, written.blobId(), written.length(), etag,
                written.sha256Hex(), contentType, metadata, tags, sealing.encryption(), checksum, keys.now(), true, List.of());
        store.inTransaction(h -> new S3Repository(h).putVersion(o)).forEach(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CopyObjectResult", XMLNS);
        w.element("LastModified", isoMillis(o.lastModified())).element("ETag", "\"" + etag + "\"");
        checksum.ifPresent(c -> w.element(Checksums.parse(c).getKey().member(), Checksums.parse(c).getValue()));
        Map<String, String> headers = new LinkedHashMap<>(encryptionHeaders(sealing.encryption()));
        versionHeader(headers, destination, o.versionId());
        if (!sourceB.versioning().isEmpty()) {
            headers.put("x-amz-copy-source-version-id", src.versionId());
        }
        return respondWith(200, w, headers);
    }

    private record CopySource(Bucket bucket, S3Object object) {
    }

    /**
     * The object (or version) x-amz-copy-source names, after checking the caller may read it:
     * s3:GetObject on the source (s3:GetObjectVersion for a version), and kms:Decrypt on its key.
     */
    private CopySource copySource(RequestContext ctx, ObjectNode input) {
        String source = header(input, "x-amz-copy-source");
        String versionId = null;
        int q = source.indexOf("?versionId=");
        if (q >= 0) {
            versionId = java.net.URLDecoder.decode(source.substring(q + 11), java.nio.charset.StandardCharsets.UTF_8);
            source = source.substring(0, q);
        }
        String decoded = java.net.URLDecoder.decode(source.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        if (decoded.startsWith("/")) {
            decoded = decoded.substring(1);
        }
        int slash = decoded.indexOf('/');
        if (slash <= 0 || slash == decoded.length() - 1) {
            throw new AwsException("InvalidArgument", 400, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        }
        String sourceBucket = decoded.substring(0, slash);
        String sourceKey = decoded.substring(slash + 1);
        requireAllowed(ctx, versionId == null ? "s3:GetObject" : "s3:GetObjectVersion", objectArn(sourceBucket, sourceKey));
        Bucket b = store.read(h -> new S3Repository(h).bucket(sourceBucket))
                .orElseThrow(() -> new AwsException("NoSuchBucket", 404, "The specified bucket does not exist"));
        S3Object o = requireVersion(b, sourceKey, versionId);
        checkDecrypt(ctx, b, o);
        return new CopySource(b, o);
    }

    JsonNode uploadPartCopy(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        int part = partNumber(input);
        S3Repository.Upload upload = requireUpload(b, input);
        Key sealingKey = sealingKey(ctx, b, uploadEncryption(upload), objectArn(b.name(), upload.key()));
        Optional<UploadChecksum> checksum = UploadChecksum.of(upload.checksumAlgorithm());
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
        Optional<String> partChecksum;
        try (SeekableByteChannel c = open(cs.bucket().name(), cs.object())) {
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
            Checksums.Computing computing = checksum.map(u -> new Checksums.Computing(in, u.algorithm())).orElse(null);
            written = blobs.write(computing != null ? computing : in, sealingKey, partContext(b.name(), upload.key(), upload.uploadId(), part));
            partChecksum = computing == null ? Optional.empty() : Optional.of(Base64.getEncoder().encodeToString(computing.value()));
        } catch (IOException e) {
            throw new AwsException("InternalError", 500, "We encountered an internal error. Please try again.");
        }
        S3Repository.Part p = new S3Repository.Part(upload.uploadId(), part, written.blobId(), written.length(), written.md5Hex(), keys.now(),
                partChecksum);
        store.inTransaction(h -> new S3Repository(h).putPart(p)).ifPresent(this::deleteBlobQuietly);
        XmlWriter w = XmlWriter.document("CopyPartResult", XMLNS);
        w.element("LastModified", isoMillis(p.uploadedAt())).element("ETag", "\"" + written.md5Hex() + "\"");
        checksum.ifPresent(c -> w.element(c.algorithm().member(), p.checksum().orElseThrow()));
        return respondWith(200, w, encryptionHeaders(uploadEncryption(upload)));
    }

    private static void writeTagSet(XmlWriter w, ObjectNode tags) {
        w.start("TagSet");
        tags.properties().forEach(e -> w.start("Tag").element("Key", e.getKey()).element("Value", e.getValue().asText()).end());
        w.end();
    }

    JsonNode getObjectTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        S3Object o = requireVersion(b, input.path("Key").asText(""), query(input, "versionId"));
        XmlWriter w = XmlWriter.document("Tagging", XMLNS);
        writeTagSet(w, parseJson(o.tags()));
        Map<String, String> headers = new LinkedHashMap<>();
        versionHeader(headers, b, o.versionId());
        return respondWith(200, w, headers);
    }

    JsonNode putObjectTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        String tags = S3Bodies.tagsJson(S3Bodies.tagging(body(input), S3Bodies.MAX_OBJECT_TAGS)).toString();
        return setObjectTags(b, input, tags, 200);
    }

    JsonNode deleteObjectTagging(RequestContext ctx, ObjectNode input) {
        return setObjectTags(requireBucket(ctx, input), input, "{}", 204);
    }

    private JsonNode setObjectTags(Bucket b, ObjectNode input, String tags, int status) {
        S3Object o = requireVersion(b, input.path("Key").asText(""), query(input, "versionId"));
        if (!store.inTransaction(h -> new S3Repository(h).setObjectTags(b.name(), o.key(), o.versionId(), tags))) {
            throw new AwsException("NoSuchKey", 404, "The specified key does not exist.");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        versionHeader(headers, b, o.versionId());
        return empty(status, headers);
    }

    // ---- bucket configuration: versioning, default encryption, tags ----

    JsonNode putBucketVersioning(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        String status = S3Bodies.versioning(body(input));
        store.useTransaction(h -> new S3Repository(h).setVersioning(b.name(), status));
        return empty(200, Map.of());
    }

    JsonNode getBucketVersioning(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        XmlWriter w = XmlWriter.document("VersioningConfiguration", XMLNS);
        if (!b.versioning().isEmpty()) {
            w.element("Status", b.versioning());
        }
        return xml(200, w);
    }

    JsonNode putBucketEncryption(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        S3Bodies.DefaultEncryption rule = S3Bodies.encryption(body(input));
        store.useTransaction(h -> new S3Repository(h).setEncryption(b.name(), Optional.of(rule.toJson().toString())));
        return empty(200, Map.of());
    }

    /** SSE-S3 is the default of every bucket, so there is always a configuration to report. */
    JsonNode getBucketEncryption(RequestContext ctx, ObjectNode input) {
        S3Bodies.DefaultEncryption rule = defaultEncryption(requireBucket(ctx, input));
        XmlWriter w = XmlWriter.document("ServerSideEncryptionConfiguration", XMLNS);
        w.start("Rule").start("ApplyServerSideEncryptionByDefault").element("SSEAlgorithm", rule.algorithm());
        rule.kmsKeyId().ifPresent(k -> w.element("KMSMasterKeyID", k));
        w.end().element("BucketKeyEnabled", Boolean.toString(rule.bucketKeyEnabled())).end();
        return xml(200, w);
    }

    JsonNode deleteBucketEncryption(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        store.useTransaction(h -> new S3Repository(h).setEncryption(b.name(), Optional.empty()));
        return empty(204, Map.of());
    }

    JsonNode putBucketTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        checkContentMd5(input, body(input));
        String tags = S3Bodies.tagsJson(S3Bodies.tagging(body(input), S3Bodies.MAX_BUCKET_TAGS)).toString();
        store.useTransaction(h -> new S3Repository(h).setBucketTags(b.name(), Optional.of(tags)));
        return empty(204, Map.of());
    }

    JsonNode getBucketTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String tags = b.tags().orElseThrow(() -> new AwsException("NoSuchTagSet", 404, "The TagSet does not exist"));
        XmlWriter w = XmlWriter.document("Tagging", XMLNS);
        writeTagSet(w, parseJson(tags));
        return xml(200, w);
    }

    JsonNode deleteBucketTagging(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        store.useTransaction(h -> new S3Repository(h).setBucketTags(b.name(), Optional.empty()));
        return empty(204, Map.of());
    }

    JsonNode listObjectVersions(RequestContext ctx, ObjectNode input) {
        Bucket b = requireBucket(ctx, input);
        String prefix = Optional.ofNullable(query(input, "prefix")).orElse("");
        String delimiter = Optional.ofNullable(query(input, "delimiter")).orElse("");
        int maxKeys = maxKeys(input);
        String keyMarker = Optional.ofNullable(query(input, "key-marker")).orElse("");
        String versionMarker = query(input, "version-id-marker");
        if (versionMarker != null && keyMarker.isEmpty()) {
            throw new AwsException("InvalidArgument", 400, "A version-id marker cannot be specified without a key marker.");
        }
        long afterSeq = 0;
        if (versionMarker != null && !versionMarker.isEmpty()) {
            checkVersionId(versionMarker);
            String km = keyMarker;
            afterSeq = store.read(h -> new S3Repository(h).versionSeq(b.name(), km, versionMarker))
                    .orElseThrow(() -> new AwsException("InvalidArgument", 400, "Invalid version id specified"));
        }
        boolean urlEncode = "url".equals(query(input, "encoding-type"));
        String account = b.accountId();
        List<S3Object> entries = new java.util.ArrayList<>();
        TreeSet<String> prefixes = new TreeSet<>();
        String cursorKey = keyMarker;
        long cursorSeq = afterSeq;
        boolean truncated = false;
        String nextKey = null;
        String nextVersion = null;
        boolean more = maxKeys > 0;
        String skipPrefix = !delimiter.isEmpty() && keyMarker.endsWith(delimiter) && versionMarker == null ? keyMarker : null;
        while (more && !truncated) {
            String fromKey = cursorKey;
            long fromSeq = cursorSeq;
            List<S3Repository.ListedVersion> page = store.read(h -> new S3Repository(h).listVersions(b.name(), prefix, fromKey, fromSeq, 1000));
            more = page.size() == 1000;
            for (S3Repository.ListedVersion listed : page) {
                S3Object o = listed.version();
                cursorKey = o.key();
                cursorSeq = listed.seq();
                if (skipPrefix != null && o.key().startsWith(skipPrefix)) {
                    continue;
                }
                String common = null;
                if (!delimiter.isEmpty()) {
                    int at = o.key().indexOf(delimiter, prefix.length());
                    if (at >= 0) {
                        common = o.key().substring(0, at + delimiter.length());
                        if (prefixes.contains(common)) {
                            continue;
                        }
                    }
                }
                if (entries.size() + prefixes.size() >= maxKeys) {
                    truncated = true;
                    break;
                }
                if (common != null) {
                    prefixes.add(common);
                    nextKey = common;
                    nextVersion = null;
                } else {
                    entries.add(o);
                    nextKey = o.key();
                    nextVersion = o.versionId();
                }
            }
        }
        XmlWriter w = XmlWriter.document("ListVersionsResult", XMLNS);
        w.element("Name", b.name()).element("Prefix", enc(prefix, urlEncode)).element("KeyMarker", enc(keyMarker, urlEncode))
                .element("VersionIdMarker", Optional.ofNullable(versionMarker).orElse("")).element("MaxKeys", Integer.toString(maxKeys));
        if (!delimiter.isEmpty()) {
            w.element("Delimiter", enc(delimiter, urlEncode));
        }
        if (urlEncode) {
            w.element("EncodingType", "url");
        }
        w.element("IsTruncated", Boolean.toString(truncated));
        if (truncated) {
            w.element("NextKeyMarker", enc(nextKey, urlEncode));
            if (nextVersion != null) {
                w.element("NextVersionIdMarker", nextVersion);
            }
        }
        for (S3Object o : entries) {
            w.start(o.deleteMarker() ? "DeleteMarker" : "Version").element("Key", enc(o.key(), urlEncode)).element("VersionId", o.versionId())
                    .element("IsLatest", Boolean.toString(o.latest())).element("LastModified", isoMillis(o.lastModified()));
            if (!o.deleteMarker()) {
                w.element("ETag", "\"" + o.etag() + "\"").element("Size", Long.toString(o.size())).element("StorageClass", "STANDARD");
            }
            w.start("Owner").element("ID", account).element("DisplayName", account).end();
            w.end();
        }
        for (String p : prefixes) {
            w.start("CommonPrefixes").element("Prefix", enc(p, urlEncode)).end();
        }
        return xml(200, w);
    }

    private static int maxKeys(ObjectNode input) {
        int maxKeys;
        try {
            maxKeys = Math.min(1000, Integer.parseInt(Optional.ofNullable(query(input, "max-keys")).orElse("1000")));
        } catch (NumberFormatException e) {
            throw new AwsException("InvalidArgument", 400, "Provided max-keys not an integer or within integer range");
        }
        if (maxKeys < 0) {
            throw new AwsException("InvalidArgument", 400, "Argument maxKeys must be an integer between 0 and 2147483647");
        }
        return maxKeys;
    }

    JsonNode listObjects(RequestContext ctx, ObjectNode input, boolean v2) {
        Bucket b = requireBucket(ctx, input);
        String prefix = Optional.ofNullable(query(input, "prefix")).orElse("");
        String delimiter = Optional.ofNullable(query(input, "delimiter")).orElse("");
        int maxKeys = maxKeys(input);
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
