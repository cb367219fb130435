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
    record Entitlement(String listingId, String sellerAccount, String productArn) {
    }

    Optional<Entitlement> entitlement(String buyer, String productArn);

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
    };
}
