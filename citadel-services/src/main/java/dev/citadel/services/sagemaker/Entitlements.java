package dev.citadel.services.sagemaker;

import java.time.Instant;
import java.util.Optional;

/**
 * Whether an account may run another account's product: an active subscription to the product's
 * active listing. Jobs and models that name a product of another account ask at creation and
 * again when they start; each run of a product leaves a usage record for its seller.
 */
interface Entitlements {
    /** The listing a buyer's subscription entitles it to run {@code productArn} under. */
    record Entitlement(String listingId, String sellerAccount, String productArn,
            Optional<dev.citadel.metadata.marketplace.MarketplaceRepository.SealedArtifact> artifact) {
    }

    Optional<Entitlement> entitlement(String buyer, String productArn);

    /**
     * Decrypts the product's sealed artifact into {@code target} for an entitled run: Citadel's
     * launcher has the seller's KMS key decrypt its data key (the seller's grant decides; its trail
     * records it). Refused with a ClientError that says why.
     */
    void openArtifact(Entitlement e, java.nio.file.Path target, long maxBytes) throws java.io.IOException;

    /** Records that {@code buyer} ran the product in {@code resourceArn} from {@code started} to {@code ended}. */
    void recordUsage(Entitlement e, String buyer, String resourceArn, String resourceKind, Instant started, Instant ended);

    /** No marketplace: nobody runs another account's product. */
    Entitlements NONE = new Entitlements() {
        @Override
        public Optional<Entitlement> entitlement(String buyer, String productArn) {
            return Optional.empty();
        }

        @Override
        public void recordUsage(Entitlement e, String buyer, String resourceArn, String resourceKind, Instant started, Instant ended) {
        }

        @Override
        public void openArtifact(Entitlement e, java.nio.file.Path target, long maxBytes) {
            throw new IllegalStateException("no marketplace");
        }
    };
}
