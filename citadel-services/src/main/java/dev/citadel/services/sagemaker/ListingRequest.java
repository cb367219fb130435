package dev.citadel.services.sagemaker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The marketplace's inputs checked from the request alone, before the store is read: a
 * CreateListing (ProductArn the ARN of an algorithm or an unversioned model package of the
 * caller's account, with a valid name; Title 1–256 characters; Description up to 4096) and the
 * ListingId of DescribeListing, WithdrawListing, Subscribe and Unsubscribe ({@code lst-} and 20
 * lower-case hex digits).
 *
 * @param kind {@link Kind#ALGORITHM} or {@link Kind#MODEL_PACKAGE}
 * @param productName the product's name in the caller's account
 * @param description empty when not given
 * @param artifactKmsKeyId the seller's key for a model package's sealed artifact; empty when not given
 */
record ListingRequest(Kind kind, String productArn, String productName, String title, String description, String artifactKmsKeyId) {
    private static final Pattern ALGORITHM_ARN = Pattern.compile("arn:aws[a-z\\-]*:sagemaker:([a-z0-9\\-]+):(\\d{12}):algorithm/(.+)");
    private static final Pattern PACKAGE_ARN = Pattern.compile("arn:aws[a-z\\-]*:sagemaker:([a-z0-9\\-]+):(\\d{12}):model-package/(.+)");
    static final Pattern LISTING_ID = Pattern.compile("lst-[0-9a-f]{20}");

    ListingRequest {
        requireNonNull(kind, "kind is null");
        requireNonNull(productArn, "productArn is null");
        requireNonNull(productName, "productName is null");
        requireNonNull(title, "title is null");
        requireNonNull(description, "description is null");
        requireNonNull(artifactKmsKeyId, "artifactKmsKeyId is null");
    }

    /** Checks a CreateListing of {@code caller}'s account; a ValidationException says what is wrong. */
    static ListingRequest parse(JsonNode in, String caller) {
        String productArn = JobRequests.string(in, "ProductArn", 1, 2048, null, true);
        String title = JobRequests.string(in, "Title", 1, 256, null, true);
        String description = JobRequests.string(in, "Description", 0, 4096, null, false);
        String artifactKey = JobRequests.string(in, "ArtifactKmsKeyId", 1, 2048, null, false);
        // The catalog shows both to every account, in terminals too: no control characters (but a description's lines and tabs).
        if (title.chars().anyMatch(Character::isISOControl) || description.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n'
                && c != '\t')) {
            throw invalid("Title and Description cannot hold control characters.");
        }
        Matcher a = ALGORITHM_ARN.matcher(productArn);
        Matcher p = PACKAGE_ARN.matcher(productArn);
        Kind kind = a.matches() ? Kind.ALGORITHM : p.matches() ? Kind.MODEL_PACKAGE : null;
        Matcher m = kind == Kind.ALGORITHM ? a : p;
        // A versioned package's name holds a '/': it is not a marketplace product.
        if (kind == null || !AlgorithmSpecs.NAME.matcher(m.group(3)).matches()) {
            throw invalid("ProductArn must be the ARN of an algorithm or of an unversioned model package.");
        }
        if (!m.group(2).equals(caller)) {
            throw invalid("A product is listed by its own account.");
        }
        return new ListingRequest(kind, productArn, m.group(3), title, description, artifactKey);
    }

    /** The ListingId member, which every operation on a listing names. */
    static String listingId(JsonNode in) {
        return JobRequests.string(in, "ListingId", 24, 24, LISTING_ID, true);
    }

    private static AwsException invalid(String message) {
        return new AwsException("ValidationException", 400, message);
    }
}
