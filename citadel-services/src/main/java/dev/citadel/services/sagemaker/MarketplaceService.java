package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.marketplace.MarketplaceRepository;
import dev.citadel.metadata.marketplace.MarketplaceRepository.Listing;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.ecr.JobImages;
import dev.citadel.wire.Protocol;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Citadel's marketplace (its own API in AWS's style: awsJson1_1, signing name and IAM prefix
 * {@code citadel-marketplace}, target prefix {@code CitadelMarketplace}; the botocore model is
 * {@code models/citadel-marketplace/2026-11-30/service-2.json}).
 *
 * <p>A seller lists a product of its account, an algorithm or an unversioned model package, that
 * is {@code Completed} (validated), certified for the marketplace, and whose images the registry
 * has scanned with no CRITICAL finding (CreateListing). Every account reads the catalog
 * (DescribeListing, ListListings) and sees a product's contract, never its image or artifact. A
 * buyer subscribes (Subscribe, Unsubscribe, ListEntitlements); the subscription is the only thing
 * that lets the buyer's training jobs name the algorithm, or its models name the model package,
 * and it grants nothing on the seller's registry or buckets. Each marketplace job or endpoint that
 * ends leaves a usage record for the seller (ListUsageRecords): account, product, resource and
 * duration, never data.
 */
final class MarketplaceService implements Entitlements {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("citadel-marketplace", "citadel-marketplace",
            "citadel-marketplace", Protocol.AWS_JSON_1_1, "CitadelMarketplace", "2026-11-30", "", "citadel-marketplace.amazonaws.com", false);

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MarketplaceService.class);

    private final MetadataStore store;
    private final Resources resources;
    private final JobImages images;
    private final JobData.Invoker invoker;
    private final ProductArtifacts artifacts;
    private final SecureRandom random = new SecureRandom();

    /**
     * @param invoker   runs KMS operations as the CreateListing caller (DescribeKey, ListGrants), through the pipeline
     * @param artifacts seals a listed model package's artifact and opens it for an entitled run
     */
    MarketplaceService(MetadataStore store, Resources resources, JobImages images, JobData.Invoker invoker, ProductArtifacts artifacts) {
        this.store = store;
        this.resources = resources;
        this.images = images;
        this.invoker = invoker;
        this.artifacts = artifacts;
    }

    List<Operation> operations() {
        return List.of(
                op("CreateListing", false, (ctx, in) -> List.of(JobRequests.string(in, "ProductArn", 1, 2048, null, true)), this::createListing),
                op("DescribeListing", true, ResourceResolver.ALL, this::describeListing),
                op("ListListings", true, ResourceResolver.ALL, this::listListings),
                op("WithdrawListing", false, this::ownListing, this::withdrawListing),
                op("Subscribe", false, ResourceResolver.ALL, this::subscribe),
                op("Unsubscribe", false, ResourceResolver.ALL, this::unsubscribe),
                op("ListEntitlements", true, ResourceResolver.ALL, this::listEntitlements),
                op("ListUsageRecords", true, ResourceResolver.ALL, this::listUsage));
    }

    private static Operation op(String name, boolean readOnly, ResourceResolver resources, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("citadel-marketplace", name).resources(resources).maxBodyBytes(64 * 1024);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    private List<String> ownListing(RequestContext ctx, ObjectNode in) {
        return List.of(listingArn(ctx.region(), ctx.principal().account().value(), listingId(in)));
    }

    private static String listingArn(String region, String seller, String id) {
        return "arn:aws:citadel-marketplace:" + region + ":" + seller + ":listing/" + id;
    }

    private static String listingId(JsonNode in) {
        return ListingRequest.listingId(in);
    }

    private static AwsException notFound(String id) {
        return new AwsException("ResourceNotFoundException", 400, "Listing " + JobRequests.printable(id) + " does not exist.");
    }

    // ---- sellers ----

    JsonNode createListing(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        ListingRequest req = ListingRequest.parse(in, account);
        String productArn = req.productArn();
        String title = req.title();
        String description = req.description();
        String artifactKey = req.artifactKmsKeyId();
        Kind kind = req.kind();
        Resource product = resources.find(account, kind, req.productName()).orElseThrow(() -> invalid("Product " + productArn + " does not exist."));
        ObjectNode body = resources.body(product);
        if (!body.path("CertifyForMarketplace").asBoolean(false)) {
            throw invalid("Product " + productArn + " is not certified for the marketplace (CertifyForMarketplace).");
        }
        if (!product.status().equals("Completed") || !body.hasNonNull("ValidationSpecification")) {
            throw invalid("Product " + productArn + " has not passed its validation (its status is " + product.status() + ").");
        }
        for (JsonNode image : productImages(kind, body)) {
            String where = image.path("repository").asText() + "@" + image.path("digest").asText();
            JobImages.ScanVerdict verdict = images.scan(image.path("account").asText(), image.path("repository").asText(),
                    image.path("digest").asText()).orElseThrow(() -> invalid("The image " + where + " is no longer in the registry."));
            if (!verdict.status().equals("COMPLETE")) {
                throw invalid("The image " + where + " has not been scanned (" + verdict.status() + "); list it once its scan is complete.");
            }
            if (verdict.critical() > 0) {
                throw invalid("The image " + where + " has " + verdict.critical() + " unresolved CRITICAL finding"
                        + (verdict.critical() == 1 ? "" : "s") + "; fix them and push a new image before listing.");
            }
        }
        String artifactUrl = kind == Kind.MODEL_PACKAGE ? (body.has("__inference") ? body.path("__inference")
                : body.path("InferenceSpecification")).path("Containers").path(0).path("ModelDataUrl").asText("") : "";
        if (artifactUrl.isEmpty() && !artifactKey.isEmpty()) {
            throw invalid("Product " + productArn + " has no model artifact to seal; ArtifactKmsKeyId applies only to a model package "
                    + "with a ModelDataUrl.");
        }
        if (!artifactUrl.isEmpty() && artifactKey.isEmpty()) {
            throw invalid("ArtifactKmsKeyId is required: a model package's artifact is sealed under a KMS key of the seller's account "
                    + "that grants " + ProductArtifacts.LAUNCHER + " Decrypt with the encryption context "
                    + ProductArtifacts.PRODUCT_CONTEXT + "=" + productArn + ".");
        }
        if (store.read(h -> new MarketplaceRepository(h).activeListing(productArn)).isPresent()) {
            throw conflict(productArn);
        }
        String keyArn = artifactUrl.isEmpty() ? "" : grantedKey(ctx, account, artifactKey, productArn);
        Instant now = resources.clock.instant();
        byte[] b = new byte[10];
        random.nextBytes(b);
        String id = "lst-" + HexFormat.of().formatHex(b);
        Listing listing = new Listing(id, account, kind.name(), product.name(), productArn, title, description, "Active", now, now);
        Optional<MarketplaceRepository.SealedArtifact> sealed = Optional.empty();
        if (!artifactUrl.isEmpty()) {
            String[] bp = JobRequests.bucketAndPrefix(artifactUrl);
            try {
                ProductArtifacts.Sealed s = artifacts.seal(ctx.principal(), keyArn, productArn, id, bp[0], bp[1]);
                sealed = Optional.of(new MarketplaceRepository.SealedArtifact(id, s.keyArn(), s.wrappedKey(), now));
            } catch (AwsException e) {
                throw new AwsException(e.code(), e.httpStatus(), "The product's artifact could not be sealed with the caller's "
                        + "permissions: " + e.getMessage());
            } catch (java.io.IOException e) {
                LOG.error("cannot seal the artifact of {}", productArn, e);
                throw AwsException.internal();
            }
        }
        Optional<MarketplaceRepository.SealedArtifact> artifact = sealed;
        try {
            store.useTransaction(h -> {
                MarketplaceRepository repo = new MarketplaceRepository(h);
                repo.insert(listing);
                artifact.ifPresent(repo::insertArtifact);
            });
        } catch (RuntimeException e) {
            deleteArtifact(id);
            if (e instanceof DuplicateKeyException) {
                throw conflict(productArn);
            }
            throw e;
        }
        return JsonNodeFactory.instance.objectNode().put("ListingId", id).put("ListingArn", listingArn(ctx.region(), account, id));
    }

    private static AwsException conflict(String productArn) {
        return new AwsException("ConflictException", 400, "Product " + productArn + " already has an active listing.");
    }

    /**
     * The ARN of the seller's key named by ArtifactKmsKeyId, once it is shown to be a usable key of
     * the caller's account with a grant that lets Citadel's launcher, and only for this product,
     * decrypt: grantee {@link ProductArtifacts#LAUNCHER}, operation Decrypt, and an encryption-context
     * constraint that the context {@code citadel:marketplace:product} = the product's ARN satisfies
     * and that names the product. Read as the caller (kms:DescribeKey, kms:ListGrants).
     */
    private String grantedKey(RequestContext ctx, String account, String keyId, String productArn) {
        JsonNode key;
        try {
            key = invoker.invoke(ctx.principal(), "kms", "DescribeKey", JsonNodeFactory.instance.objectNode().put("KeyId", keyId))
                    .path("KeyMetadata");
        } catch (AwsException e) {
            if (e.code().equals("NotFoundException")) {
                throw invalid("ArtifactKmsKeyId " + JobRequests.printable(keyId) + " does not name a KMS key of the caller's account.");
            }
            throw e;
        }
        String arn = key.path("Arn").asText();
        if (!key.path("AWSAccountId").asText().equals(account)) {
            throw invalid("ArtifactKmsKeyId must name a KMS key of the seller's own account.");
        }
        if (!key.path("KeyState").asText().equals("Enabled") || !key.path("KeyUsage").asText().equals("ENCRYPT_DECRYPT")
                || !key.path("KeySpec").asText().equals("SYMMETRIC_DEFAULT")) {
            throw invalid("The KMS key " + arn + " must be an enabled symmetric encryption key (it is " + key.path("KeyState").asText()
                    + ", " + key.path("KeySpec").asText() + ", " + key.path("KeyUsage").asText() + ").");
        }
        JsonNode grants = invoker.invoke(ctx.principal(), "kms", "ListGrants", JsonNodeFactory.instance.objectNode().put("KeyId", arn));
        for (JsonNode g : grants.path("Grants")) {
            if (launcherGrant(g, productArn)) {
                return arn;
            }
        }
        throw invalid("The KMS key " + arn + " has no grant for " + ProductArtifacts.LAUNCHER + " with the operation Decrypt and the "
                + "constraint EncryptionContextSubset (or EncryptionContextEquals) " + ProductArtifacts.PRODUCT_CONTEXT + "=" + productArn
                + "; create it (CreateGrant) and list again.");
    }

    /** Whether a grant (as ListGrants shows it) lets the launcher decrypt this product's data key, and nothing broader. */
    static boolean launcherGrant(JsonNode grant, String productArn) {
        if (!grant.path("GranteePrincipal").asText().equals(ProductArtifacts.LAUNCHER)) {
            return false;
        }
        boolean decrypt = false;
        for (JsonNode o : grant.path("Operations")) {
            decrypt |= o.asText().equals("Decrypt");
        }
        JsonNode equals = grant.path("Constraints").path("EncryptionContextEquals");
        JsonNode subset = grant.path("Constraints").path("EncryptionContextSubset");
        boolean bound = false;
        if (equals.isObject()) {
            if (equals.size() != 1 || !equals.path(ProductArtifacts.PRODUCT_CONTEXT).asText().equals(productArn)) {
                return false;
            }
            bound = true;
        }
        if (subset.isObject()) {
            for (var e : subset.properties()) {
                if (!e.getKey().equals(ProductArtifacts.PRODUCT_CONTEXT) || !e.getValue().asText().equals(productArn)) {
                    return false;
                }
                bound = true;
            }
        }
        return decrypt && bound;
    }

    private void deleteArtifact(String listingId) {
        try {
            artifacts.delete(listingId);
        } catch (java.io.IOException e) {
            LOG.error("cannot remove the sealed artifact of listing {}", listingId, e);
        }
    }

    /** Every image a product runs: an algorithm's training image and inference containers, a package's containers. */
    private List<JsonNode> productImages(Kind kind, ObjectNode body) {
        List<JsonNode> out = new ArrayList<>();
        if (kind == Kind.ALGORITHM) {
            out.add(body.path("__image"));
            for (JsonNode c : body.path("InferenceSpecification").path("Containers")) {
                JobImages.Resolved r = images.resolve(c.path("Image").asText(), body.path("__image").path("account").asText());
                out.add(JsonNodeFactory.instance.objectNode().put("account", r.account()).put("repository", r.repository())
                        .put("digest", r.digest()));
            }
        } else {
            body.path("__images").forEach(out::add);
        }
        return out;
    }

    JsonNode withdrawListing(RequestContext ctx, ObjectNode in) {
        String id = listingId(in);
        Listing l = store.read(h -> new MarketplaceRepository(h).listing(id)).orElseThrow(() -> notFound(id));
        if (!l.sellerAccount().equals(ctx.principal().account().value())) {
            throw new AwsException("AccessDeniedException", 400, "Only the seller withdraws a listing.");
        }
        store.useTransaction(h -> new MarketplaceRepository(h).withdraw(id, resources.clock.instant()));
        // Nothing opens a withdrawn listing's artifact again (running containers keep what they unpacked).
        deleteArtifact(id);
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listUsage(RequestContext ctx, ObjectNode in) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode records = out.putArray("UsageRecords");
        for (MarketplaceRepository.Usage u : store.read(h -> new MarketplaceRepository(h).usage(ctx.principal().account().value()))) {
            records.addObject().put("ListingId", u.listingId()).put("ProductArn", u.productArn()).put("BuyerAccount", u.buyerAccount())
                    .put("ResourceArn", u.resourceArn()).put("ResourceKind", u.resourceKind())
                    .put("StartTime", SageMakerService.seconds(u.startedAt())).put("EndTime", SageMakerService.seconds(u.endedAt()))
                    .put("DurationSeconds", Math.max(0, u.endedAt().getEpochSecond() - u.startedAt().getEpochSecond()));
        }
        return out;
    }

    // ---- the catalog ----

    JsonNode describeListing(RequestContext ctx, ObjectNode in) {
        String id = listingId(in);
        Listing l = store.read(h -> new MarketplaceRepository(h).listing(id)).orElseThrow(() -> notFound(id));
        if (!l.status().equals("Active") && !l.sellerAccount().equals(ctx.principal().account().value())) {
            throw notFound(id);
        }
        String buyer = ctx.principal().account().value();
        boolean subscribed = store.read(h -> new MarketplaceRepository(h).subscription(buyer, l.listingId()))
                .map(s -> s.status().equals("Active")).orElse(false);
        return render(ctx, l, JsonNodeFactory.instance.objectNode(), subscribed, true);
    }

    JsonNode listListings(RequestContext ctx, ObjectNode in) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Listings");
        String buyer = ctx.principal().account().value();
        record Catalog(List<Listing> listings, java.util.Set<String> subscribed) {
        }
        // the listings and the caller's subscriptions in one read, not one subscription read per listing
        Catalog catalog = store.read(h -> {
            MarketplaceRepository repo = new MarketplaceRepository(h);
            return new Catalog(repo.listings(true), repo.subscriptions(buyer).stream().filter(s -> s.status().equals("Active"))
                    .map(MarketplaceRepository.Subscription::listingId).collect(java.util.stream.Collectors.toSet()));
        });
        for (Listing l : catalog.listings()) {
            render(ctx, l, list.addObject(), catalog.subscribed().contains(l.listingId()), false);
        }
        return out;
    }

    /**
     * A listing as every account sees it: the product's contract (hyperparameters, channels,
     * instance types, content types), never its image, digest, artifact or validation data.
     */
    private ObjectNode render(RequestContext ctx, Listing l, ObjectNode out, boolean subscribed, boolean contract) {
        out.put("ListingId", l.listingId()).put("ListingArn", listingArn(ctx.region(), l.sellerAccount(), l.listingId()))
                .put("SellerAccount", l.sellerAccount()).put("ProductArn", l.productArn())
                .put("ProductKind", l.productKind().equals("ALGORITHM") ? "Algorithm" : "ModelPackage").put("Title", l.title())
                .put("Description", l.description()).put("Status", l.status()).put("CreationTime", SageMakerService.seconds(l.createdAt()));
        out.put("Subscribed", subscribed);
        if (!contract) {
            return out;
        }
        Optional<Resource> product = resources.find(l.sellerAccount(), Kind.valueOf(l.productKind()), l.productName());
        if (product.isEmpty()) {
            return out;
        }
        ObjectNode body = resources.body(product.get());
        if (l.productKind().equals("ALGORITHM")) {
            ObjectNode training = out.putObject("TrainingSpecification");
            for (String member : List.of("SupportedHyperParameters", "SupportedTrainingInstanceTypes", "TrainingChannels",
                    "MetricDefinitions")) {
                if (body.path("TrainingSpecification").hasNonNull(member)) {
                    training.set(member, body.path("TrainingSpecification").get(member).deepCopy());
                }
            }
        }
        JsonNode inference = body.has("__inference") ? body.path("__inference") : body.path("InferenceSpecification");
        if (inference.isObject()) {
            ObjectNode served = out.putObject("InferenceSpecification");
            for (String member : List.of("SupportedContentTypes", "SupportedResponseMIMETypes", "SupportedTransformInstanceTypes",
                    "SupportedRealtimeInferenceInstanceTypes")) {
                if (inference.hasNonNull(member)) {
                    served.set(member, inference.get(member).deepCopy());
                }
            }
        }
        return out;
    }

    // ---- buyers ----

    JsonNode subscribe(RequestContext ctx, ObjectNode in) {
        String id = listingId(in);
        String buyer = ctx.principal().account().value();
        Listing l = store.read(h -> new MarketplaceRepository(h).listing(id)).filter(x -> x.status().equals("Active"))
                .orElseThrow(() -> notFound(id));
        if (l.sellerAccount().equals(buyer)) {
            throw invalid("A seller does not subscribe to its own listing: its account runs the product directly.");
        }
        store.useTransaction(h -> new MarketplaceRepository(h).subscribe(buyer, id, resources.clock.instant()));
        return JsonNodeFactory.instance.objectNode().put("ListingId", id).put("ProductArn", l.productArn()).put("Status", "Active");
    }

    JsonNode unsubscribe(RequestContext ctx, ObjectNode in) {
        String id = listingId(in);
        String buyer = ctx.principal().account().value();
        if (!store.<Boolean>inTransaction(h -> new MarketplaceRepository(h).cancel(buyer, id, resources.clock.instant()))) {
            throw new AwsException("ResourceNotFoundException", 400, "There is no active subscription to listing " + id + ".");
        }
        return JsonNodeFactory.instance.objectNode().put("ListingId", id).put("Status", "Cancelled");
    }

    JsonNode listEntitlements(RequestContext ctx, ObjectNode in) {
        String buyer = ctx.principal().account().value();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Entitlements");
        store.read(h -> {
            MarketplaceRepository repo = new MarketplaceRepository(h);
            for (MarketplaceRepository.Subscription s : repo.subscriptions(buyer)) {
                repo.listing(s.listingId()).ifPresent(l -> list.addObject().put("ListingId", l.listingId()).put("ProductArn", l.productArn())
                        .put("ProductKind", l.productKind().equals("ALGORITHM") ? "Algorithm" : "ModelPackage").put("Title", l.title())
                        .put("ListingStatus", l.status()).put("SubscribedAt", SageMakerService.seconds(s.subscribedAt())));
            }
            return null;
        });
        return out;
    }

    // ---- entitlements, for the jobs and models that use a product ----

    @Override
    public Optional<Entitlement> entitlement(String buyer, String productArn) {
        return store.read(h -> {
            MarketplaceRepository repo = new MarketplaceRepository(h);
            return repo.activeListing(productArn).filter(l -> repo.subscription(buyer, l.listingId()).map(s -> s.status().equals("Active"))
                    .orElse(false)).map(l -> new Entitlement(l.listingId(), l.sellerAccount(), l.productArn(), repo.artifact(l.listingId())));
        });
    }

    @Override
    public void openArtifact(Entitlement e, java.nio.file.Path target, long maxBytes) throws java.io.IOException {
        MarketplaceRepository.SealedArtifact a = e.artifact().orElseThrow(() -> new AwsException("ClientError", 400, "ClientError: the "
                + "product's artifact was not sealed when it was listed; its seller must withdraw the listing and list the product again."));
        artifacts.open(e.sellerAccount(), e.productArn(), e.listingId(), a.keyArn(), a.wrappedKey(), target, maxBytes);
    }

    @Override
    public void recordUsage(Entitlement e, String buyer, String resourceArn, String resourceKind, Instant started, Instant ended) {
        byte[] b = new byte[10];
        random.nextBytes(b);
        store.useTransaction(h -> new MarketplaceRepository(h).record(new MarketplaceRepository.Usage("use-" + HexFormat.of().formatHex(b),
                e.listingId(), e.sellerAccount(), buyer, e.productArn(), resourceArn, resourceKind, started, ended)));
    }

    private static AwsException invalid(String message) {
        return new AwsException("ValidationException", 400, message);
    }
}
