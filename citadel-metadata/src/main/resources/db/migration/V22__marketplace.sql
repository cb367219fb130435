-- Citadel's marketplace: listings of sellers' products (algorithms and unversioned model packages),
-- buyers' subscriptions to them, and the usage records sellers see. A listing names its product by
-- ARN; at most one active listing per product. A subscription is the entitlement that lets the
-- buyer's jobs and endpoints run the product (never registry or S3 rights on the seller's side);
-- unsubscribing cancels it. A usage record says which account ran which product in which job or
-- endpoint for how long, and nothing about its data. Placeholders as in V1.

CREATE TABLE marketplace_listings (
    listing_id      TEXT ${binary} NOT NULL,
    seller_account  TEXT ${binary} NOT NULL,
    product_kind    TEXT NOT NULL CHECK (product_kind IN ('ALGORITHM', 'MODEL_PACKAGE')),
    product_name    TEXT ${binary} NOT NULL,
    product_arn     TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('Active', 'Withdrawn')),
    created_at      ${int64} NOT NULL,
    modified_at     ${int64} NOT NULL,
    CONSTRAINT marketplace_listings_pkey PRIMARY KEY (listing_id)
) ${strict};

CREATE UNIQUE INDEX marketplace_listings_active_product ON marketplace_listings (product_arn) WHERE status = 'Active';

CREATE TABLE marketplace_subscriptions (
    buyer_account   TEXT ${binary} NOT NULL,
    listing_id      TEXT ${binary} NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('Active', 'Cancelled')),
    subscribed_at   ${int64} NOT NULL,
    ended_at        ${int64},
    CONSTRAINT marketplace_subscriptions_pkey PRIMARY KEY (buyer_account, listing_id),
    CONSTRAINT marketplace_subscriptions_listing_fkey FOREIGN KEY (listing_id) REFERENCES marketplace_listings (listing_id)
) ${strict};

CREATE TABLE marketplace_usage (
    usage_id        TEXT ${binary} NOT NULL,
    listing_id      TEXT ${binary} NOT NULL,
    seller_account  TEXT ${binary} NOT NULL,
    buyer_account   TEXT ${binary} NOT NULL,
    product_arn     TEXT NOT NULL,
    resource_arn    TEXT NOT NULL,
    resource_kind   TEXT NOT NULL,
    started_at      ${int64} NOT NULL,
    ended_at        ${int64} NOT NULL,
    CONSTRAINT marketplace_usage_pkey PRIMARY KEY (usage_id)
) ${strict};

CREATE INDEX marketplace_usage_by_seller ON marketplace_usage (seller_account, ended_at);
