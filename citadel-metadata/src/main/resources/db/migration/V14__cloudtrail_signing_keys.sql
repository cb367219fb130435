-- The RSA keys that sign CloudTrail digest files, per region: the public key as PKCS#1 DER (what
-- ListPublicKeys returns), its fingerprint (hex MD5 of that DER, named in every digest), and the
-- private key sealed under the secrets key. Placeholders as in V1.

CREATE TABLE cloudtrail_signing_keys (
    fingerprint      TEXT NOT NULL,
    region           TEXT NOT NULL,
    public_key       ${blob} NOT NULL,
    private_sealed   ${blob} NOT NULL,
    valid_from       ${int64} NOT NULL,
    valid_to         ${int64} NOT NULL,
    CONSTRAINT cloudtrail_signing_keys_pkey PRIMARY KEY (fingerprint)
) ${strict};

CREATE INDEX cloudtrail_signing_keys_by_region ON cloudtrail_signing_keys (region, valid_from);
