-- The sealed artifact of a listed model package: the product's model artifact, copied at listing
-- time and encrypted under a data key that the seller's own KMS key wraps, bound by encryption
-- context to the product (citadel:marketplace:product = its ARN). Only the wrapped data key (a KMS
-- ciphertext blob) and the key's ARN are kept here; the plaintext data key is never stored, and the
-- sealed bytes are a file named by the listing id under <data-dir>/marketplace. A buyer's run has
-- the data key decrypted by Citadel's launcher (citadel-marketplace.amazonaws.com) under the
-- seller's grant. Placeholders as in V1.

CREATE TABLE marketplace_artifacts (
    listing_id      TEXT ${binary} NOT NULL,
    key_arn         TEXT NOT NULL,
    wrapped_key     ${blob} NOT NULL,
    created_at      ${int64} NOT NULL,
    CONSTRAINT marketplace_artifacts_pkey PRIMARY KEY (listing_id),
    CONSTRAINT marketplace_artifacts_listing_fkey FOREIGN KEY (listing_id) REFERENCES marketplace_listings (listing_id)
) ${strict};
