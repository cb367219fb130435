package dev.citadel.services.sagemaker;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;

/**
 * Fuzz targets for what a seller and a buyer send the marketplace: CreateModelPackage bodies
 * ({@link ModelPackageRequest}) and the citadel-marketplace operations' inputs
 * ({@link ListingRequest}: CreateListing, and the ListingId of the others). Corpus:
 * {@code src/test/resources/dev/citadel/services/sagemaker/MarketplaceInputsFuzzTestInputs/<method>/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=MarketplaceInputsFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Each input is refused with a ValidationException, or
 * read into a request that keeps every rule the service relies on afterwards.
 */
class MarketplaceInputsFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CALLER = "111122223333";

    /** A CreateModelPackage body. */
    @FuzzTest(maxDuration = "30s")
    void createModelPackage(FuzzedDataProvider data) {
        if (!(read(data.consumeRemainingAsBytes()) instanceof ObjectNode in)) {
            return;
        }
        ModelPackageRequest r;
        try {
            r = ModelPackageRequest.parse(in, InstanceTypes.defaults());
        } catch (AwsException e) {
            requireValidation(e);
            return;
        }
        check(r.name().isPresent() != r.group().isPresent(), "exactly one of name and group", in);
        r.name().ifPresent(n -> check(AlgorithmSpecs.NAME.matcher(n).matches() && n.length() <= 63, "a valid package name", in));
        r.group().ifPresent(g -> check(AlgorithmSpecs.NAME.matcher(g).matches(), "a valid group name", in));
        check(r.versioned() ? ModelPackageRequest.APPROVALS.contains(r.approval()) : r.approval().isEmpty(), "an approval for versions only",
                in);
        check(!r.certify() || r.validates() && !r.versioned(), "certified only when validated and unversioned", in);
        r.validationRole().ifPresent(role -> check(JobRequests.ROLE_ARN.matcher(role).matches(), "a role ARN", in));
        r.source().ifPresent(s -> check(s.modelDataUrl().startsWith("s3://") && !s.algorithmName().isEmpty(), "an s3:// artifact", in));
        check(r.source().isPresent() || in.path("InferenceSpecification").isObject(), "something to serve", in);
        for (JsonNode c : in.path("InferenceSpecification").path("Containers")) {
            for (var e : c.path("Environment").properties()) {
                check(e.getKey().matches("[a-zA-Z_][a-zA-Z0-9_]*") && e.getValue().isTextual(), "an environment a container can take", in);
            }
        }
        r.tags().keySet().forEach(k -> check(!k.toLowerCase(java.util.Locale.ROOT).startsWith("aws:"), "no reserved tag key", in));
    }

    /**
     * A marketplace operation's input, {@code {"Operation": "CreateListing" | "DescribeListing" |
     * "WithdrawListing" | "Subscribe" | "Unsubscribe", …members}}.
     */
    @FuzzTest(maxDuration = "30s")
    void marketplace(FuzzedDataProvider data) {
        if (!(read(data.consumeRemainingAsBytes()) instanceof ObjectNode in)) {
            return;
        }
        try {
            if (in.path("Operation").asText().equals("CreateListing")) {
                ListingRequest r = ListingRequest.parse(in, CALLER);
                String prefix = ":" + CALLER + ":" + (r.kind() == Kind.ALGORITHM ? "algorithm/" : "model-package/");
                check(r.kind() == Kind.ALGORITHM || r.kind() == Kind.MODEL_PACKAGE, "an algorithm or a model package", in);
                check(r.productArn().startsWith("arn:aws") && r.productArn().endsWith(prefix + r.productName()), "the caller's own product",
                        in);
                check(AlgorithmSpecs.NAME.matcher(r.productName()).matches(), "a product name without '/'", in);
                check(!r.title().isEmpty() && r.title().length() <= 256 && r.description().length() <= 4096, "sizes in range", in);
                check(r.title().chars().noneMatch(Character::isISOControl), "a printable title", in);
            } else {
                String id = ListingRequest.listingId(in);
                check(id.matches("lst-[0-9a-f]{20}"), "a listing ID", in);
            }
        } catch (AwsException e) {
            requireValidation(e);
        }
    }

    private static JsonNode read(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static void requireValidation(AwsException e) {
        if (!e.code().equals("ValidationException") || e.httpStatus() != 400) {
            throw e;
        }
    }

    private static void check(boolean holds, String rule, JsonNode in) {
        if (!holds) {
            throw new AssertionError("accepted without " + rule + ": " + in);
        }
    }
}
