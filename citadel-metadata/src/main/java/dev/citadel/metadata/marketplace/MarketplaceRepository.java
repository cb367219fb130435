package dev.citadel.metadata.marketplace;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The marketplace's listings, subscriptions and usage records (V22), and listed model packages' sealed artifacts (V23). */
public final class MarketplaceRepository {
    /** A product has at most one active listing. */
    public static final String ACTIVE_PRODUCT = "marketplace_listings_active_product";

    public record Listing(String listingId, String sellerAccount, String productKind, String productName, String productArn, String title,
            String description, String status, Instant createdAt, Instant modifiedAt) {
        public Listing {
            requireNonNull(listingId, "listingId is null");
            requireNonNull(sellerAccount, "sellerAccount is null");
        }
    }

    /**
     * The sealed artifact of a listing: the ARN of the seller's KMS key and the data key it wraps (a
     * KMS ciphertext blob, bound to the product by encryption context), never the data key itself.
     */
    public record SealedArtifact(String listingId, String keyArn, byte[] wrappedKey, Instant createdAt) {
        public SealedArtifact {
            requireNonNull(listingId, "listingId is null");
            requireNonNull(keyArn, "keyArn is null");
            wrappedKey = wrappedKey.clone();
            requireNonNull(createdAt, "createdAt is null");
        }

        @Override
        public byte[] wrappedKey() {
            return wrappedKey.clone();
        }
    }

    public record Subscription(String buyerAccount, String listingId, String status, Instant subscribedAt, Optional<Instant> endedAt) {
    }

    public record Usage(String usageId, String listingId, String sellerAccount, String buyerAccount, String productArn, String resourceArn,
            String resourceKind, Instant startedAt, Instant endedAt) {
    }

    private final Handle h;

    public MarketplaceRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** Adds a listing; a second active listing of a product raises a DuplicateKeyException naming {@link #ACTIVE_PRODUCT}. */
    public void insert(Listing l) {
        execute(h.createUpdate("INSERT INTO marketplace_listings (listing_id, seller_account, product_kind, product_name, product_arn, title, "
                + "description, status, created_at, modified_at) VALUES (:id, :s, :k, :n, :arn, :t, :d, :st, :c, :m)")
                .bind("id", l.listingId()).bind("s", l.sellerAccount()).bind("k", l.productKind()).bind("n", l.productName())
                .bind("arn", l.productArn()).bind("t", l.title()).bind("d", l.description()).bind("st", l.status())
                .bind("c", l.createdAt().toEpochMilli()).bind("m", l.modifiedAt().toEpochMilli()));
    }

    /** Records a listing's sealed artifact (in the transaction that inserts the listing). */
    public void insertArtifact(SealedArtifact a) {
        execute(h.createUpdate("INSERT INTO marketplace_artifacts (listing_id, key_arn, wrapped_key, created_at) VALUES (:id, :k, :w, :c)")
                .bind("id", a.listingId()).bind("k", a.keyArn()).bind("w", a.wrappedKey()).bind("c", a.createdAt().toEpochMilli()));
    }

    /** The listing ids of active listings' sealed artifacts (a withdrawn listing's file is deleted): what a backup copies. */
    public java.util.Set<String> activeArtifactListingIds() {
        return new java.util.TreeSet<>(h.createQuery("SELECT a.listing_id FROM marketplace_artifacts a JOIN marketplace_listings l "
                + "ON l.listing_id = a.listing_id WHERE l.status = 'Active'").mapTo(String.class).list());
    }

    public Optional<SealedArtifact> artifact(String listingId) {
        return h.createQuery("SELECT * FROM marketplace_artifacts WHERE listing_id = :id").bind("id", listingId)
                .map((rs, ctx) -> new SealedArtifact(rs.getString("listing_id"), rs.getString("key_arn"), rs.getBytes("wrapped_key"),
                        Instant.ofEpochMilli(rs.getLong("created_at")))).findOne();
    }

    public Optional<Listing> listing(String listingId) {
        return h.createQuery("SELECT * FROM marketplace_listings WHERE listing_id = :id").bind("id", listingId)
                .map((rs, ctx) -> listing(rs)).findOne();
    }

    /** Listings in order of creation; {@code activeOnly} leaves out withdrawn ones. */
    public List<Listing> listings(boolean activeOnly) {
        return h.createQuery("SELECT * FROM marketplace_listings" + (activeOnly ? " WHERE status = 'Active'" : "")
                + " ORDER BY created_at, listing_id").map((rs, ctx) -> listing(rs)).list();
    }

    /** The active listing of a product, if any. */
    public Optional<Listing> activeListing(String productArn) {
        return h.createQuery("SELECT * FROM marketplace_listings WHERE product_arn = :arn AND status = 'Active'").bind("arn", productArn)
                .map((rs, ctx) -> listing(rs)).findOne();
    }

    public boolean withdraw(String listingId, Instant at) {
        return execute(h.createUpdate("UPDATE marketplace_listings SET status = 'Withdrawn', modified_at = :m WHERE listing_id = :id "
                + "AND status = 'Active'").bind("id", listingId).bind("m", at.toEpochMilli())) == 1;
    }

    /** Subscribes, or renews a cancelled subscription. */
    public void subscribe(String buyer, String listingId, Instant at) {
        if (execute(h.createUpdate("UPDATE marketplace_subscriptions SET status = 'Active', subscribed_at = :t, ended_at = NULL "
                + "WHERE buyer_account = :b AND listing_id = :l AND status = 'Cancelled'").bind("b", buyer).bind("l", listingId)
                .bind("t", at.toEpochMilli())) == 0) {
            execute(h.createUpdate("INSERT INTO marketplace_subscriptions (buyer_account, listing_id, status, subscribed_at) "
                    + "VALUES (:b, :l, 'Active', :t)").bind("b", buyer).bind("l", listingId).bind("t", at.toEpochMilli()));
        }
    }

    public boolean cancel(String buyer, String listingId, Instant at) {
        return execute(h.createUpdate("UPDATE marketplace_subscriptions SET status = 'Cancelled', ended_at = :t WHERE buyer_account = :b "
                + "AND listing_id = :l AND status = 'Active'").bind("b", buyer).bind("l", listingId).bind("t", at.toEpochMilli())) == 1;
    }

    public Optional<Subscription> subscription(String buyer, String listingId) {
        return h.createQuery("SELECT * FROM marketplace_subscriptions WHERE buyer_account = :b AND listing_id = :l").bind("b", buyer)
                .bind("l", listingId).map((rs, ctx) -> subscription(rs)).findOne();
    }

    /** A buyer's active subscriptions, oldest first. */
    public List<Subscription> subscriptions(String buyer) {
        return h.createQuery("SELECT * FROM marketplace_subscriptions WHERE buyer_account = :b AND status = 'Active' "
                + "ORDER BY subscribed_at, listing_id").bind("b", buyer).map((rs, ctx) -> subscription(rs)).list();
    }

    public void record(Usage u) {
        execute(h.createUpdate("INSERT INTO marketplace_usage (usage_id, listing_id, seller_account, buyer_account, product_arn, resource_arn, "
                + "resource_kind, started_at, ended_at) VALUES (:id, :l, :s, :b, :p, :r, :k, :st, :e)").bind("id", u.usageId())
                .bind("l", u.listingId()).bind("s", u.sellerAccount()).bind("b", u.buyerAccount()).bind("p", u.productArn())
                .bind("r", u.resourceArn()).bind("k", u.resourceKind()).bind("st", u.startedAt().toEpochMilli())
                .bind("e", u.endedAt().toEpochMilli()));
    }

    /** A seller's usage records, in the order they ended. */
    public List<Usage> usage(String seller) {
        return h.createQuery("SELECT * FROM marketplace_usage WHERE seller_account = :s ORDER BY ended_at, usage_id").bind("s", seller)
                .map((rs, ctx) -> new Usage(rs.getString("usage_id"), rs.getString("listing_id"), rs.getString("seller_account"),
                        rs.getString("buyer_account"), rs.getString("product_arn"), rs.getString("resource_arn"), rs.getString("resource_kind"),
                        Instant.ofEpochMilli(rs.getLong("started_at")), Instant.ofEpochMilli(rs.getLong("ended_at")))).list();
    }

    private static Listing listing(ResultSet rs) throws SQLException {
        return new Listing(rs.getString("listing_id"), rs.getString("seller_account"), rs.getString("product_kind"), rs.getString("product_name"),
                rs.getString("product_arn"), rs.getString("title"), rs.getString("description"), rs.getString("status"),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("modified_at")));
    }

    private static Subscription subscription(ResultSet rs) throws SQLException {
        long ended = rs.getLong("ended_at");
        return new Subscription(rs.getString("buyer_account"), rs.getString("listing_id"), rs.getString("status"),
                Instant.ofEpochMilli(rs.getLong("subscribed_at")), rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(ended)));
    }
}
