package dev.citadel.services.ecr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.ecr.EcrRepository;
import dev.citadel.metadata.ecr.EcrRepository.Image;
import dev.citadel.metadata.ecr.EcrRepository.Repo;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.services.Inputs;
import dev.citadel.services.iam.PolicyAuthorizer;
import dev.citadel.services.kms.KmsKeys;
import dev.citadel.services.sts.SessionTokens;
import dev.citadel.wire.Protocol;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Amazon ECR's API (awsJson1_1, {@code AmazonEC2ContainerRegistry_V20150921}): repositories with
 * tag mutability, scan on push, encryption and tags; repository policies (resource-based policies
 * that can let another account pull); GetAuthorizationToken; images (describe, list, get, delete)
 * and their scan findings. The OCI Distribution API that Docker clients push and pull with is
 * {@link Registry}; both share this class's repositories and checks.
 */
public final class EcrService implements PolicyAuthorizer.ResourcePolicies {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("ecr", "ecr", "ecr", Protocol.AWS_JSON_1_1,
            "AmazonEC2ContainerRegistry_V20150921", "2015-09-21", "", "ecr.amazonaws.com", false);
    /** The registry (OCI Distribution API): its own routes and errors, ECR's actions and event source; never SigV4-signed. */
    public static final ServiceDefinition REGISTRY = new ServiceDefinition("ecr-registry", "ecr-registry", "ecr", Protocol.OCI_DISTRIBUTION,
            "", "2015-09-21", "", "ecr.amazonaws.com", false);
    static final String INVALID = "InvalidParameterException";
    static final String MANAGED_KEY_ALIAS = "alias/aws/ecr";
    private static final Pattern NAME = Pattern.compile("(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*");
    /** The ECR host form of a registry: {@code <account>.dkr.ecr.<region>.amazonaws.com}. */
    static final Pattern ECR_HOST = Pattern.compile("(\\d{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?::\\d+)?");
    private static final Pattern REPOSITORY_ARN = Pattern.compile("arn:aws:ecr:([a-z0-9-]+):(\\d{12}):repository/(.+)");
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(12);
    static final ObjectMapper JSON = new ObjectMapper();

    final MetadataStore store;
    final KmsKeys keys;
    final ImageStore images;
    private final SessionTokens tokens;
    final Clock clock;
    final String region;
    final Supplier<String> registryHost;
    final ImageScans scans;
    private final dev.citadel.pipeline.authz.Authorizer authorizer;

    /**
     * @param registryHost the host and port clients reach the registry at (repositoryUri, proxyEndpoint)
     * @param scans        runs vulnerability scans of pushed images
     */
    public EcrService(MetadataStore store, KmsKeys keys, dev.citadel.services.s3.BlobStore blobs, SessionTokens tokens, Clock clock,
            String region, Supplier<String> registryHost, ImageScans scans, dev.citadel.pipeline.authz.Authorizer authorizer) {
        this.authorizer = authorizer;
        this.store = store;
        this.keys = keys;
        this.images = new ImageStore(blobs);
        this.tokens = tokens;
        this.clock = clock;
        this.region = region;
        this.registryHost = registryHost;
        this.scans = scans;
    }

    public List<Operation> operations() {
        return List.of(
                op("CreateRepository", false, EcrService::repositoryFromInput, this::createRepository),
                op("DescribeRepositories", true, (ctx, in) -> in.path("repositoryNames").isEmpty() ? List.of("*")
                        : names(ctx, in.path("repositoryNames")), this::describeRepositories),
                op("DeleteRepository", false, EcrService::repositoryFromInput, this::deleteRepository),
                op("GetAuthorizationToken", true, ResourceResolver.ALL, this::getAuthorizationToken),
                op("DescribeImages", true, EcrService::repositoryFromInput, this::describeImages),
                op("ListImages", true, EcrService::repositoryFromInput, this::listImages),
                op("BatchGetImage", true, EcrService::repositoryFromInput, this::batchGetImage),
                op("BatchDeleteImage", false, EcrService::repositoryFromInput, this::batchDeleteImage),
                op("PutImageTagMutability", false, EcrService::repositoryFromInput, this::putImageTagMutability),
                op("PutImageScanningConfiguration", false, EcrService::repositoryFromInput, this::putImageScanningConfiguration),
                op("SetRepositoryPolicy", false, EcrService::repositoryFromInput, this::setRepositoryPolicy),
                op("GetRepositoryPolicy", true, EcrService::repositoryFromInput, this::getRepositoryPolicy),
                op("DeleteRepositoryPolicy", false, EcrService::repositoryFromInput, this::deleteRepositoryPolicy),
                op("StartImageScan", false, EcrService::repositoryFromInput, this::startImageScan),
                op("DescribeImageScanFindings", true, EcrService::repositoryFromInput, this::describeImageScanFindings),
                op("TagResource", false, (ctx, in) -> List.of(in.path("resourceArn").asText("")), this::tagResource),
                op("UntagResource", false, (ctx, in) -> List.of(in.path("resourceArn").asText("")), this::untagResource),
                op("ListTagsForResource", true, (ctx, in) -> List.of(in.path("resourceArn").asText("")), this::listTagsForResource));
    }

    private static Operation op(String name, boolean readOnly, ResourceResolver resources, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("ecr", name).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    // ---- names, accounts, ARNs ----

    static String arn(String region, String account, String name) {
        return "arn:aws:ecr:" + region + ":" + account + ":repository/" + name;
    }

    /** The registry (account) a JSON request addresses: its registryId, which must be the caller's or name a repository policy's account. */
    static String registryId(RequestContext ctx, ObjectNode input) {
        String id = input.path("registryId").asText("");
        if (id.isEmpty()) {
            return ctx.principal().account().value();
        }
        if (!id.matches("\\d{12}")) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular "
                    + "expression '[0-9]{12}''");
        }
        return id;
    }

    private static List<String> repositoryFromInput(RequestContext ctx, ObjectNode input) {
        return List.of(arn(ctx.region(), registryId(ctx, input), requireName(input.path("repositoryName").asText(""))));
    }

    private static List<String> names(RequestContext ctx, JsonNode names) {
        List<String> out = new ArrayList<>();
        String account = ctx.principal().account().value();
        names.forEach(n -> out.add(arn(ctx.region(), account, requireName(n.asText("")))));
        return out;
    }

    static String requireName(String name) {
        if (name.length() < 2 || name.length() > 256 || !NAME.matcher(name).matches()) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular "
                    + "expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''");
        }
        return name;
    }

    Repo requireRepository(String account, String name) {
        return store.read(h -> new EcrRepository(h).repository(account, name)).orElseThrow(() -> new AwsException(
                "RepositoryNotFoundException", 400, "The repository with name '" + name + "' does not exist in the registry with id '"
                        + account + "'"));
    }

    Key keyOf(Repo r) {
        if (r.encryptionType().equals("KMS")) {
            String id = r.kmsKeyArn().substring(r.kmsKeyArn().lastIndexOf('/') + 1);
            Key k = keys.key(id).orElseThrow(() -> new AwsException("KmsException", 400, "The KMS key of the repository is gone."));
            if (!k.state().equals("Enabled")) {
                throw new AwsException("KmsException", 400, "The KMS key " + k.arn() + " is " + k.state() + ".");
            }
            return k;
        }
        return keys.managedKey(r.accountId(), region, MANAGED_KEY_ALIAS, "Default key that protects ECR images when no other key is defined");
    }

    /** Whether the caller may pull from a repository (ecr:BatchGetImage, with the request's global condition keys). */
    boolean mayPull(RequestContext ctx, String repositoryArn) {
        Map<String, List<String>> keys = new java.util.HashMap<>();
        dev.citadel.pipeline.RequestPipeline.globalConditionKeys(ctx, keys);
        return authorizer.authorize(new dev.citadel.pipeline.authz.AuthorizationRequest(ctx.principal(), "ecr:BatchGetImage",
                List.of(repositoryArn), keys)).allowed();
    }

    String repositoryUri(Repo r) {
        return registryHost.get() + "/" + r.name();
    }

    // ---- the authorizer's view: repository policies ----

    @Override
    public Optional<PolicyEvaluator.Source> requiredPolicy(String action, String resource) {
        return Optional.empty();
    }

    @Override
    public Optional<PolicyEvaluator.Source> resourcePolicy(String resource) {
        // Asked for every account-scoped resource of every authorized call: others leave at once.
        if (!resource.startsWith("arn:aws:ecr:")) {
            return Optional.empty();
        }
        Matcher m = REPOSITORY_ARN.matcher(resource);
        if (!m.matches()) {
            return Optional.empty();
        }
        return store.read(h -> new EcrRepository(h).repository(m.group(2), m.group(3))).flatMap(r -> r.policy().map(p -> {
            try {
                return new PolicyEvaluator.Source("the repository policy of " + m.group(3), parsePolicy(p, r.arn()));
            } catch (MalformedPolicyException e) {
                throw new IllegalStateException("stored repository policy is malformed", e);
            }
        }));
    }

    /**
     * A repository policy as the evaluator reads it. As in ECR, its statements need not name a
     * Resource: the repository is the resource, so a statement without one applies to it.
     */
    static dev.citadel.policy.Policy parsePolicy(String text, String repositoryArn) throws MalformedPolicyException {
        JsonNode doc;
        try {
            doc = JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new MalformedPolicyException("The policy is not valid JSON.");
        }
        if (doc != null && doc.isObject()) {
            JsonNode statements = doc.path("Statement");
            for (JsonNode st : statements.isArray() ? statements : JSON.createArrayNode().add(statements)) {
                if (st.isObject() && !st.has("Resource") && !st.has("NotResource")) {
                    ((ObjectNode) st).put("Resource", repositoryArn);
                }
            }
            text = doc.toString();
        }
        return PolicyParser.parse(text, PolicyParser.Kind.RESOURCE);
    }

    // ---- repositories ----

    JsonNode createRepository(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        if (!account.equals(ctx.principal().account().value())) {
            throw new AwsException(INVALID, 400, "Repositories are created in the caller's own registry.");
        }
        String name = requireName(input.path("repositoryName").asText(""));
        if (ECR_HOST.matcher(name.split("/", 2)[0]).matches()) {
            throw new AwsException(INVALID, 400, "A repository name cannot start with a registry host name.");
        }
        String mutability = input.path("imageTagMutability").asText("MUTABLE");
        if (!mutability.equals("MUTABLE") && !mutability.equals("IMMUTABLE")) {
            throw new AwsException(INVALID, 400, "imageTagMutability must be MUTABLE or IMMUTABLE.");
        }
        boolean scanOnPush = input.path("imageScanningConfiguration").path("scanOnPush").asBoolean(false);
        JsonNode enc = input.path("encryptionConfiguration");
        String encryption = enc.path("encryptionType").asText("AES256");
        String kmsArn = "";
        if (encryption.equals("KMS")) {
            String keyId = enc.path("kmsKey").asText("");
            Key k = resolveKey(account, keyId.isEmpty() ? MANAGED_KEY_ALIAS : keyId);
            if (!keyId.isEmpty()) {
                requireKeyUse(ctx, k);
            }
            kmsArn = k.arn();
        } else if (!encryption.equals("AES256")) {
            throw new AwsException(INVALID, 400, "encryptionType must be AES256 or KMS (KMS_DSSE is not available).");
        } else if (enc.has("kmsKey")) {
            throw new AwsException(INVALID, 400, "A KMS key can only be given with the KMS encryption type.");
        }
        String tags = tagsJson(input.path("tags"), JsonNodeFactory.instance.objectNode()).toString();
        Repo r = new Repo(account, name, arn(ctx.region(), account, name), clock.instant().truncatedTo(ChronoUnit.MILLIS), mutability, scanOnPush,
                encryption, kmsArn, Optional.empty(), tags);
        try {
            store.useTransaction(h -> new EcrRepository(h).insertRepository(r));
        } catch (DuplicateKeyException e) {
            throw new AwsException("RepositoryAlreadyExistsException", 400, "The repository with name '" + name
                    + "' already exists in the registry with id '" + account + "'");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("repository", describe(r));
        return out;
    }

    /** The customer key a repository is encrypted with: enabled, of the account (or named by ARN), usable for encryption. */
    private Key resolveKey(String account, String keyId) {
        if (keyId.equals(MANAGED_KEY_ALIAS)) {
            return keys.managedKey(account, region, MANAGED_KEY_ALIAS, "Default key that protects ECR images when no other key is defined");
        }
        Key k = keys.resolve(account, keyId).orElseThrow(() -> new AwsException("KmsException", 400, "The KMS key " + keyId
                + " does not exist or is not accessible."));
        if (!k.state().equals("Enabled") || !k.keyUsage().equals("ENCRYPT_DECRYPT") || !k.keySpec().equals("SYMMETRIC_DEFAULT")) {
            throw new AwsException("KmsException", 400, "The KMS key " + k.arn() + " cannot encrypt images (it must be an enabled symmetric "
                    + "encryption key).");
        }
        return k;
    }

    /**
     * A repository under a customer key: the key must be the account's own, and the caller must be
     * allowed to use it through ECR (kms:GenerateDataKey and kms:Decrypt, with kms:ViaService
     * {@code ecr.<region>.amazonaws.com}), as ECR checks when it creates its grant.
     */
    private void requireKeyUse(RequestContext ctx, Key k) {
        if (!k.accountId().equals(ctx.principal().account().value())) {
            throw new AwsException("KmsException", 400, "The KMS key " + k.arn() + " belongs to another account.");
        }
        Map<String, List<String>> context = new java.util.HashMap<>();
        dev.citadel.pipeline.RequestPipeline.globalConditionKeys(ctx, context);
        context.put("kms:ViaService", List.of("ecr." + ctx.region() + ".amazonaws.com"));
        context.put("kms:CallerAccount", List.of(ctx.principal().account().value()));
        for (String action : List.of("kms:GenerateDataKey", "kms:Decrypt")) {
            if (!authorizer.authorize(new dev.citadel.pipeline.authz.AuthorizationRequest(ctx.principal(), action, List.of(k.arn()), context))
                    .allowed()) {
                throw new AwsException("KmsException", 400, "User: " + ctx.principal().arn() + " is not authorized to perform " + action
                        + " on the KMS key " + k.arn() + ".");
            }
        }
    }

    private ObjectNode describe(Repo r) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("repositoryArn", r.arn());
        n.put("registryId", r.accountId());
        n.put("repositoryName", r.name());
        n.put("repositoryUri", repositoryUri(r));
        n.put("createdAt", r.createdAt().toEpochMilli() / 1000.0);
        n.put("imageTagMutability", r.tagMutability());
        n.putObject("imageScanningConfiguration").put("scanOnPush", r.scanOnPush());
        ObjectNode enc = n.putObject("encryptionConfiguration");
        enc.put("encryptionType", r.encryptionType());
        if (!r.kmsKeyArn().isEmpty()) {
            enc.put("kmsKey", r.kmsKeyArn());
        }
        return n;
    }

    JsonNode describeRepositories(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        List<Repo> found = new ArrayList<>();
        if (input.path("repositoryNames").isEmpty()) {
            found.addAll(store.read(h -> new EcrRepository(h).repositories(account)));
        } else {
            for (JsonNode n : input.path("repositoryNames")) {
                found.add(requireRepository(account, requireName(n.asText(""))));
            }
        }
        Page page = Page.of(input, found.size(), 1000);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("repositories");
        found.subList(page.from(), page.to()).forEach(r -> list.add(describe(r)));
        page.next().ifPresent(t -> out.put("nextToken", t));
        return out;
    }

    JsonNode deleteRepository(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        boolean force = input.path("force").asBoolean(false);
        List<String> released = store.inTransaction(h -> {
            EcrRepository repo = new EcrRepository(h);
            if (!force && repo.imageCount(account, r.name()) > 0) {
                throw new AwsException("RepositoryNotEmptyException", 400, "The repository with name '" + r.name()
                        + "' in registry with id '" + account + "' cannot be deleted because it still contains images");
            }
            return repo.deleteRepository(account, r.name());
        });
        releaseUnreferenced(released);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("repository", describe(r));
        return out;
    }

    /** Deletes the sealed blobs of {@code partLists} that no repository, image or upload refers to any more. */
    void releaseUnreferenced(List<String> partLists) {
        if (partLists.isEmpty()) {
            return;
        }
        java.util.Set<String> referenced = store.read(EcrService::referencedBlobs);
        List<ImageStore.Part> unreferenced = new ArrayList<>();
        for (String json : partLists) {
            ImageStore.parts(json).stream().filter(p -> !referenced.contains(p.blob())).forEach(unreferenced::add);
        }
        images.delete(unreferenced);
    }

    /**
     * The ids of the image blobs the registry's rows seen through {@code h} refer to: blobs,
     * manifests and uploads in progress. The sweep keeps these; a backup copies them.
     */
    public static java.util.Set<String> referencedBlobs(org.jdbi.v3.core.Handle h) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        new EcrRepository(h).allParts().forEach(json -> ImageStore.parts(json).forEach(p -> ids.add(p.blob())));
        return ids;
    }

    /**
     * Removes what interrupted pushes left behind: uploads not completed within a day (as a
     * registry expires them) and sealed blobs nothing refers to. Run at start, before serving.
     */
    public int sweep() throws java.io.IOException {
        store.inTransaction(h -> new EcrRepository(h).deleteUploadsBefore(clock.instant().minus(Duration.ofDays(1))));
        return images.sweep(store.read(EcrService::referencedBlobs));
    }

    JsonNode putImageTagMutability(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        String mutability = input.path("imageTagMutability").asText("");
        if (!mutability.equals("MUTABLE") && !mutability.equals("IMMUTABLE")) {
            throw new AwsException(INVALID, 400, "imageTagMutability must be MUTABLE or IMMUTABLE.");
        }
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(mutability, r.scanOnPush(), r.policy(), r.tags())));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name()).put("imageTagMutability", mutability);
        return out;
    }

    JsonNode putImageScanningConfiguration(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        JsonNode config = input.path("imageScanningConfiguration");
        if (!config.path("scanOnPush").isBoolean()) {
            throw new AwsException(INVALID, 400, "imageScanningConfiguration.scanOnPush must be a boolean.");
        }
        boolean scanOnPush = config.path("scanOnPush").asBoolean();
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(r.tagMutability(), scanOnPush, r.policy(), r.tags())));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name()).putObject("imageScanningConfiguration").put("scanOnPush", scanOnPush);
        return out;
    }

    // ---- repository policies ----

    JsonNode setRepositoryPolicy(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        String text = new Inputs(input, INVALID).requiredString("policyText", 1, 10240, null);
        dev.citadel.policy.Policy parsed;
        try {
            parsed = parsePolicy(text, r.arn());
        } catch (MalformedPolicyException e) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy "
                    + "provided': " + e.getMessage());
        }
        if (parsed == null) {
            throw new AwsException(INVALID, 400, "Invalid repository policy provided");
        }
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(r.tagMutability(), r.scanOnPush(), Optional.of(text), r.tags())));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name()).put("policyText", text);
        return out;
    }

    JsonNode getRepositoryPolicy(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        String policy = r.policy().orElseThrow(() -> new AwsException("RepositoryPolicyNotFoundException", 400,
                "Repository policy does not exist for the repository with name '" + r.name() + "' in the registry with id '" + account + "'"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name()).put("policyText", policy);
        return out;
    }

    JsonNode deleteRepositoryPolicy(RequestContext ctx, ObjectNode input) {
        JsonNode existing = getRepositoryPolicy(ctx, input);
        Repo r = requireRepository(registryId(ctx, input), input.path("repositoryName").asText(""));
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(r.tagMutability(), r.scanOnPush(), Optional.empty(), r.tags())));
        return existing;
    }

    // ---- tags ----

    private static ObjectNode tagsJson(JsonNode given, ObjectNode into) {
        if (given.size() > 50) {
            throw new AwsException("TooManyTagsException", 400, "A repository can have at most 50 tags.");
        }
        for (JsonNode t : given) {
            String k = t.path("Key").asText("");
            String v = t.path("Value").asText("");
            if (k.isEmpty() || k.length() > 128 || v.length() > 256 || k.startsWith("aws:")) {
                throw new AwsException("InvalidTagParameterException", 400, "Tag keys must be 1 to 128 characters (not starting with aws:) "
                        + "and values at most 256.");
            }
            into.put(k, v);
        }
        if (into.size() > 50) {
            throw new AwsException("TooManyTagsException", 400, "A repository can have at most 50 tags.");
        }
        return into;
    }

    private Repo repositoryByArn(RequestContext ctx, String arn) {
        Matcher m = REPOSITORY_ARN.matcher(arn);
        if (!m.matches() || !m.group(1).equals(ctx.region())) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'must be a repository ARN'");
        }
        return requireRepository(m.group(2), requireName(m.group(3)));
    }

    JsonNode tagResource(RequestContext ctx, ObjectNode input) {
        Repo r = repositoryByArn(ctx, input.path("resourceArn").asText(""));
        ObjectNode tags;
        try {
            tags = (ObjectNode) JSON.readTree(r.tags());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        tagsJson(input.path("tags"), tags);
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(r.tagMutability(), r.scanOnPush(), r.policy(), tags.toString())));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode untagResource(RequestContext ctx, ObjectNode input) {
        Repo r = repositoryByArn(ctx, input.path("resourceArn").asText(""));
        ObjectNode tags;
        try {
            tags = (ObjectNode) JSON.readTree(r.tags());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        input.path("tagKeys").forEach(k -> tags.remove(k.asText("")));
        store.useTransaction(h -> new EcrRepository(h).updateRepository(r.with(r.tagMutability(), r.scanOnPush(), r.policy(), tags.toString())));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listTagsForResource(RequestContext ctx, ObjectNode input) {
        Repo r = repositoryByArn(ctx, input.path("resourceArn").asText(""));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("tags");
        try {
            JSON.readTree(r.tags()).properties().forEach(e -> list.addObject().put("Key", e.getKey()).put("Value", e.getValue().asText()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    // ---- authorization tokens ----

    /**
     * GetAuthorizationToken: {@code base64("AWS:" + password)}, valid 12 hours (or until the
     * caller's own session ends). The password is a session of the caller's own identity (the
     * same principal, tags and session policies), sealed like an STS session token; the registry
     * authenticates its requests as that principal, and policies are evaluated at each request.
     */
    JsonNode getAuthorizationToken(RequestContext ctx, ObjectNode input) {
        Principal p = ctx.principal();
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant expires = now.plus(TOKEN_LIFETIME);
        Principal.Session session = p.session().map(s -> new Principal.Session(s.issuer(), s.sessionName(), s.issuedAt(),
                        s.expiresAt().isBefore(expires) ? s.expiresAt() : expires, s.mfaAt(), s.policies(), s.policyArns(), s.sourceIdentity(),
                        s.chained()))
                .orElse(new Principal.Session(p.arn(), "", now, expires, Optional.empty(), List.of(), List.of(), Optional.empty(), false));
        SessionTokens.Credentials c = tokens.issue(p.type(), p.account(), p.principalId(), p.arn(), p.name(), p.tags(), session);
        String password = c.accessKeyId() + "." + c.sessionToken();
        String token = Base64.getEncoder().encodeToString(("AWS:" + password).getBytes(StandardCharsets.UTF_8));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("authorizationData").addObject().put("authorizationToken", token)
                .put("expiresAt", session.expiresAt().getEpochSecond()).put("proxyEndpoint", "https://" + registryHost.get());
        return out;
    }

    // ---- images ----

    /** An image named by digest or tag (imageId), with its tags: ImageNotFoundException when there is none. */
    record Found(Image image, List<String> tags) {
    }

    Optional<Found> find(String account, String repository, JsonNode imageId) {
        String digest = imageId.path("imageDigest").asText("");
        String tag = imageId.path("imageTag").asText("");
        return store.read(h -> {
            EcrRepository repo = new EcrRepository(h);
            Optional<String> byTag = tag.isEmpty() ? Optional.empty() : repo.tag(account, repository, tag);
            if (!tag.isEmpty() && (byTag.isEmpty() || !digest.isEmpty() && !byTag.get().equals(digest))) {
                return Optional.empty();
            }
            String d = byTag.orElse(digest);
            return repo.image(account, repository, d).map(i -> new Found(i, repo.tagsOf(account, repository, d)));
        });
    }

    private static void checkImageId(JsonNode id) {
        String digest = id.path("imageDigest").asText("");
        String tag = id.path("imageTag").asText("");
        if (digest.isEmpty() && tag.isEmpty()) {
            throw new AwsException(INVALID, 400, "An image id needs an imageDigest or an imageTag.");
        }
        if (!digest.isEmpty() && !digest.matches("sha256:[a-f0-9]{64}")) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'imageDigest': not a sha256 digest.");
        }
        if (!tag.isEmpty() && !dev.citadel.pipeline.protocol.OciRoutes.TAG.matcher(tag).matches()) {
            throw new AwsException(INVALID, 400, "Invalid parameter at 'imageTag'.");
        }
    }

    private ObjectNode imageDetail(Repo r, Found f) {
        Image i = f.image();
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("registryId", r.accountId()).put("repositoryName", r.name()).put("imageDigest", i.digest());
        if (!f.tags().isEmpty()) {
            ArrayNode tags = n.putArray("imageTags");
            f.tags().forEach(tags::add);
        }
        n.put("imageSizeInBytes", i.imageSize());
        n.put("imagePushedAt", i.pushedAt().toEpochMilli() / 1000.0);
        if (!i.scanStatus().isEmpty()) {
            n.putObject("imageScanStatus").put("status", i.scanStatus()).put("description", i.scanDescription());
            i.scanCompletedAt().ifPresent(at -> {
                ObjectNode summary = n.putObject("imageScanFindingsSummary");
                summary.put("imageScanCompletedAt", at.toEpochMilli() / 1000.0);
                summary.put("vulnerabilitySourceUpdatedAt", scans.databaseUpdatedAt().map(t -> t.toEpochMilli() / 1000.0).orElse(0.0));
                summary.set("findingSeverityCounts", ImageScans.counts(i.scanFindings()));
            });
        }
        n.put("imageManifestMediaType", i.mediaType());
        if (!i.artifactType().isEmpty()) {
            n.put("artifactMediaType", i.artifactType());
        }
        i.lastPulledAt().ifPresent(at -> n.put("lastRecordedPullTime", at.toEpochMilli() / 1000.0));
        return n;
    }

    JsonNode describeImages(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        List<Found> found = new ArrayList<>();
        if (input.path("imageIds").isEmpty()) {
            String status = input.path("filter").path("tagStatus").asText("ANY");
            store.read(h -> {
                EcrRepository repo = new EcrRepository(h);
                for (Image i : repo.images(account, r.name())) {
                    List<String> tags = repo.tagsOf(account, r.name(), i.digest());
                    if (status.equals("ANY") || status.equals("TAGGED") == !tags.isEmpty()) {
                        found.add(new Found(i, tags));
                    }
                }
                return null;
            });
        } else {
            for (JsonNode id : input.path("imageIds")) {
                checkImageId(id);
                found.add(find(account, r.name(), id).orElseThrow(() -> new AwsException("ImageNotFoundException", 400,
                        "The image with imageId " + id + " does not exist within the repository with name '" + r.name()
                                + "' in the registry with id '" + account + "'")));
            }
        }
        Page page = Page.of(input, found.size(), 1000);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("imageDetails");
        found.subList(page.from(), page.to()).forEach(f -> list.add(imageDetail(r, f)));
        page.next().ifPresent(t -> out.put("nextToken", t));
        return out;
    }

    JsonNode listImages(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        String status = input.path("filter").path("tagStatus").asText("ANY");
        List<ObjectNode> ids = new ArrayList<>();
        store.read(h -> {
            EcrRepository repo = new EcrRepository(h);
            for (Image i : repo.images(account, r.name())) {
                List<String> tags = repo.tagsOf(account, r.name(), i.digest());
                if (tags.isEmpty() && !status.equals("TAGGED")) {
                    ids.add(JsonNodeFactory.instance.objectNode().put("imageDigest", i.digest()));
                }
                if (!status.equals("UNTAGGED")) {
                    tags.forEach(t -> ids.add(JsonNodeFactory.instance.objectNode().put("imageDigest", i.digest()).put("imageTag", t)));
                }
            }
            return null;
        });
        Page page = Page.of(input, ids.size(), 1000);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("imageIds");
        ids.subList(page.from(), page.to()).forEach(list::add);
        page.next().ifPresent(t -> out.put("nextToken", t));
        return out;
    }

    JsonNode batchGetImage(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        if (input.path("imageIds").isEmpty() || input.path("imageIds").size() > 100) {
            throw new AwsException(INVALID, 400, "imageIds must list 1 to 100 images.");
        }
        List<String> accepted = new ArrayList<>();
        input.path("acceptedMediaTypes").forEach(t -> accepted.add(t.asText()));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode found = out.putArray("images");
        ArrayNode failures = out.putArray("failures");
        for (JsonNode id : input.path("imageIds")) {
            checkImageId(id);
            Optional<Found> f = find(account, r.name(), id);
            if (f.isEmpty()) {
                failures.addObject().<ObjectNode>set("imageId", id.deepCopy()).put("failureCode", "ImageNotFound")
                        .put("failureReason", "Requested image not found");
                continue;
            }
            Image i = f.get().image();
            if (!accepted.isEmpty() && !accepted.contains(i.mediaType())) {
                failures.addObject().<ObjectNode>set("imageId", id.deepCopy()).put("failureCode", "UnsupportedImageType")
                        .put("failureReason", "The image's manifest media type is not in acceptedMediaTypes");
                continue;
            }
            byte[] manifest;
            try {
                manifest = images.readAll(account, ImageStore.parts(i.manifestParts()), Manifests.MAX_BYTES);
            } catch (java.io.IOException e) {
                throw new AwsException("ServerException", 500, "The image manifest could not be read.");
            }
            ObjectNode image = found.addObject();
            image.put("registryId", account).put("repositoryName", r.name());
            ObjectNode imageId = image.putObject("imageId").put("imageDigest", i.digest());
            if (!id.path("imageTag").asText("").isEmpty()) {
                imageId.put("imageTag", id.path("imageTag").asText());
            }
            image.put("imageManifest", new String(manifest, StandardCharsets.UTF_8)).put("imageManifestMediaType", i.mediaType());
        }
        return out;
    }

    JsonNode batchDeleteImage(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        if (input.path("imageIds").isEmpty() || input.path("imageIds").size() > 100) {
            throw new AwsException(INVALID, 400, "imageIds must list 1 to 100 images.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode deleted = out.putArray("imageIds");
        ArrayNode failures = out.putArray("failures");
        List<String> released = new ArrayList<>();
        for (JsonNode id : input.path("imageIds")) {
            checkImageId(id);
            Optional<Found> f = find(account, r.name(), id);
            if (f.isEmpty()) {
                failures.addObject().<ObjectNode>set("imageId", id.deepCopy()).put("failureCode", "ImageNotFound")
                        .put("failureReason", "Requested image not found");
                continue;
            }
            String tag = id.path("imageTag").asText("");
            String digest = f.get().image().digest();
            // A tag alone removes the tag; the image goes with its last tag, or when named by digest.
            store.useTransaction(h -> {
                EcrRepository repo = new EcrRepository(h);
                if (!tag.isEmpty() && id.path("imageDigest").asText("").isEmpty()) {
                    repo.deleteTag(account, r.name(), tag);
                    if (!repo.tagsOf(account, r.name(), digest).isEmpty()) {
                        return;
                    }
                }
                repo.deleteImage(account, r.name(), digest).ifPresent(released::add);
            });
            ObjectNode d = deleted.addObject().put("imageDigest", digest);
            if (!tag.isEmpty()) {
                d.put("imageTag", tag);
            }
        }
        releaseUnreferenced(released);
        return out;
    }

    // ---- scans ----

    /** The image an imageId names in the repository: ImageNotFoundException when there is none. */
    private Found requireImage(String account, Repo r, JsonNode imageId) {
        checkImageId(imageId);
        return find(account, r.name(), imageId).orElseThrow(() -> new AwsException("ImageNotFoundException", 400,
                "The image requested does not exist in the specified repository."));
    }

    JsonNode startImageScan(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        Found f = requireImage(account, r, input.path("imageId"));
        scans.start(this, r, f.image());
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name());
        out.putObject("imageId").put("imageDigest", f.image().digest());
        out.putObject("imageScanStatus").put("status", "IN_PROGRESS").put("description", "The scan is in progress.");
        return out;
    }

    JsonNode describeImageScanFindings(RequestContext ctx, ObjectNode input) {
        String account = registryId(ctx, input);
        Repo r = requireRepository(account, requireName(input.path("repositoryName").asText("")));
        Found f = requireImage(account, r, input.path("imageId"));
        Image i = f.image();
        if (i.scanStatus().isEmpty()) {
            throw new AwsException("ScanNotFoundException", 400, "Image scan does not exist for the image with '" + i.digest()
                    + "' in the repository with name '" + r.name() + "' in the registry with id '" + account + "'");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("registryId", account).put("repositoryName", r.name());
        ObjectNode imageId = out.putObject("imageId").put("imageDigest", i.digest());
        if (!input.path("imageId").path("imageTag").asText("").isEmpty()) {
            imageId.put("imageTag", input.path("imageId").path("imageTag").asText());
        }
        out.putObject("imageScanStatus").put("status", i.scanStatus()).put("description", i.scanDescription());
        if (i.scanCompletedAt().isPresent()) {
            ObjectNode findings = out.putObject("imageScanFindings");
            findings.put("imageScanCompletedAt", i.scanCompletedAt().get().toEpochMilli() / 1000.0);
            findings.put("vulnerabilitySourceUpdatedAt", scans.databaseUpdatedAt().map(t -> t.toEpochMilli() / 1000.0).orElse(0.0));
            findings.set("findingSeverityCounts", ImageScans.counts(i.scanFindings()));
            ArrayNode all;
            try {
                all = (ArrayNode) JSON.readTree(i.scanFindings());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            Page page = Page.of(input, all.size(), 1000);
            ArrayNode list = findings.putArray("findings");
            for (int k = page.from(); k < page.to(); k++) {
                list.add(all.get(k));
            }
            page.next().ifPresent(t -> out.put("nextToken", t));
        }
        return out;
    }

    // ---- pagination ----

    /** A page of a list: maxResults (1 to {@code max}) from the offset a nextToken names. */
    record Page(int from, int to, int total) {
        static Page of(ObjectNode input, int total, int max) {
            int size = max;
            if (input.hasNonNull("maxResults")) {
                size = input.path("maxResults").asInt(0);
                if (size < 1 || size > max) {
                    throw new AwsException(INVALID, 400, "maxResults must be between 1 and " + max + ".");
                }
            }
            int from = 0;
            String token = input.path("nextToken").asText("");
            if (!token.isEmpty()) {
                try {
                    from = Integer.parseInt(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    throw new AwsException(INVALID, 400, "Invalid parameter at 'nextToken'.");
                }
                if (from < 0 || from > total) {
                    throw new AwsException(INVALID, 400, "Invalid parameter at 'nextToken'.");
                }
            }
            return new Page(from, Math.min(total, from + size), total);
        }

        Optional<String> next() {
            return to < total ? Optional.of(Base64.getUrlEncoder().withoutPadding().encodeToString(Integer.toString(to)
                    .getBytes(StandardCharsets.UTF_8))) : Optional.empty();
        }
    }

    static Map<String, String> headers(String... kv) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.put(kv[i], kv[i + 1]);
        }
        return out;
    }
}
