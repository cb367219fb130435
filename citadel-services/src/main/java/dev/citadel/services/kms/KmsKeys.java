package dev.citadel.services.kms;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.kms.KmsRepository;
import dev.citadel.metadata.kms.KmsRepository.Key;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.spec.SecretKeySpec;

/**
 * Key records and key material. Material is 256 random bits per key version, stored only sealed
 * under the root key (bound to the context {@code kms/key/<id>/v<n>}) and kept unsealed in memory
 * once used. Rotation adds a version; every version keeps decrypting. Keys whose deletion date has
 * passed are destroyed (material first) when any key operation runs, at most once a minute, and
 * at start: what was sealed under them cannot be opened again.
 */
public final class KmsKeys {
    private static final long PURGE_EVERY_NANOS = 60_000_000_000L;

    private final MetadataStore store;
    private final SecretSealer sealer;
    private final SecureRandom random;
    private final Clock clock;
    private final ConcurrentHashMap<String, SecretKeySpec> material = new ConcurrentHashMap<>();
    /** Key records and alias targets, read at most every 5 seconds and dropped at once on any change made here. */
    private final ConcurrentHashMap<String, Cached<Optional<Key>>> keyCache = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Cached<Optional<String>>> aliasCache = new ConcurrentHashMap<>();
    private static final long CACHE_NANOS = 5_000_000_000L;

    private record Cached<T>(T value, long expiresAt) {
    }
    private volatile long nextPurge = System.nanoTime();

    public KmsKeys(MetadataStore store, SecretSealer sealer, SecureRandom random, Clock clock) {
        this.store = store;
        this.sealer = sealer;
        this.random = random;
        this.clock = clock;
    }

    public Instant now() {
        return clock.instant();
    }

    public MetadataStore store() {
        return store;
    }

    /** The context a KMS key version's material is sealed under. */
    public static String sealContext(String keyId, int version) {
        return context(keyId, version);
    }

    private static String context(String keyId, int version) {
        return "kms/key/" + keyId + "/v" + version;
    }

    /** Makes and seals new material for a version of a key. */
    public byte[] newSealedMaterial(String keyId, int version, int bytes) {
        byte[] m = new byte[bytes];
        random.nextBytes(m);
        SecretBytes secret = SecretBytes.copyOf(m);
        java.util.Arrays.fill(m, (byte) 0);
        return sealer.seal(secret, context(keyId, version));
    }

    public byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** The key, after destroying any key due for deletion. */
    public Optional<Key> key(String keyId) {
        purgeIfDue();
        long now = System.nanoTime();
        Cached<Optional<Key>> c = keyCache.get(keyId);
        if (c != null && c.expiresAt - now > 0) {
            return c.value;
        }
        Optional<Key> key = store.read(h -> new KmsRepository(h).key(keyId));
        if (keyCache.size() > 10_000) {
            keyCache.clear();
        }
        keyCache.put(keyId, new Cached<>(key, now + CACHE_NANOS));
        return key;
    }

    /** The key id an alias of an account points to. */
    public Optional<String> aliasTarget(String accountId, String aliasName) {
        long now = System.nanoTime();
        String cacheKey = accountId + "/" + aliasName;
        Cached<Optional<String>> c = aliasCache.get(cacheKey);
        if (c != null && c.expiresAt - now > 0) {
            return c.value;
        }
        Optional<String> target = store.read(h -> new KmsRepository(h).alias(accountId, aliasName)).map(KmsRepository.Alias::keyId);
        if (aliasCache.size() > 10_000) {
            aliasCache.clear();
        }
        aliasCache.put(cacheKey, new Cached<>(target, now + CACHE_NANOS));
        return target;
    }

    /**
     * The key another service names for {@code account}: a key id, key ARN, alias name or alias
     * ARN (an ARN in the account it names, the rest in {@code account}). Empty when there is none;
     * its state is the caller's to check.
     */
    public Optional<Key> resolve(String account, String keyId) {
        String owner = account;
        String name = keyId;
        if (keyId.startsWith("arn:aws:kms:")) {
            String[] parts = keyId.split(":", 6);
            owner = parts.length == 6 ? parts[4] : account;
            name = parts.length == 6 ? parts[5] : keyId;
        }
        String keyOwner = owner;
        String ref = name.startsWith("key/") ? name.substring(4) : name;
        return ref.startsWith("alias/") ? aliasTarget(keyOwner, ref).flatMap(this::key) : key(ref).filter(k -> k.accountId().equals(keyOwner));
    }

    /** Runs a change in one transaction, then drops what this node has cached about keys and aliases. */
    public void change(org.jdbi.v3.core.HandleConsumer<RuntimeException> work) {
        try {
            store.useTransaction(work);
        } finally {
            invalidate();
        }
    }

    /** The same, returning the transaction's result. */
    public <T> T changeAndGet(org.jdbi.v3.core.HandleCallback<T, RuntimeException> work) {
        try {
            return store.inTransaction(work);
        } finally {
            invalidate();
        }
    }

    public void invalidate() {
        keyCache.clear();
        aliasCache.clear();
    }

    /** The material of one version, unsealed; empty when that version does not exist (or was destroyed). */
    public Optional<SecretKeySpec> material(String keyId, int version, String algorithm) {
        String cacheKey = keyId + "/" + version;
        SecretKeySpec cached = material.get(cacheKey);
        if (cached != null) {
            return Optional.of(cached);
        }
        return store.read(h -> new KmsRepository(h).version(keyId, version)).map(v -> {
            SecretBytes m = sealer.unseal(v.materialSealed(), context(keyId, version));
            SecretKeySpec spec = new SecretKeySpec(m.revealBytes(), algorithm);
            material.put(cacheKey, spec);
            return spec;
        });
    }

    /** Makes a key pair for an asymmetric key spec and seals it: u32 length + PKCS#8 private key, then the X.509 public key. */
    public byte[] newSealedKeyPair(String keyId, int version, String keySpec) {
        java.security.KeyPair pair = generateKeyPair(keySpec);
        byte[] priv = pair.getPrivate().getEncoded();
        byte[] pub = pair.getPublic().getEncoded();
        byte[] both = java.nio.ByteBuffer.allocate(4 + priv.length + pub.length).putInt(priv.length).put(priv).put(pub).array();
        java.util.Arrays.fill(priv, (byte) 0);
        SecretBytes secret = SecretBytes.copyOf(both);
        java.util.Arrays.fill(both, (byte) 0);
        return sealer.seal(secret, context(keyId, version));
    }

    /** A new key pair: RSA_2048/3072/4096 or ECC_NIST_P256/P384. */
    public java.security.KeyPair generateKeyPair(String keySpec) {
        try {
            java.security.KeyPairGenerator g;
            if (keySpec.startsWith("RSA_")) {
                g = java.security.KeyPairGenerator.getInstance("RSA");
                g.initialize(Integer.parseInt(keySpec.substring(4)), random);
            } else {
                g = java.security.KeyPairGenerator.getInstance("EC");
                g.initialize(new java.security.spec.ECGenParameterSpec(keySpec.equals("ECC_NIST_P384") ? "secp384r1" : "secp256r1"), random);
            }
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("key pair generation failed for " + keySpec, e);
        }
    }

    private final ConcurrentHashMap<String, java.security.KeyPair> pairs = new ConcurrentHashMap<>();

    /** The key pair of an asymmetric key's version, unsealed. */
    public Optional<java.security.KeyPair> keyPair(String keyId, int version, String keySpec) {
        String cacheKey = keyId + "/" + version;
        java.security.KeyPair cached = pairs.get(cacheKey);
        if (cached != null) {
            return Optional.of(cached);
        }
        return store.read(h -> new KmsRepository(h).version(keyId, version)).map(v -> {
            byte[] both = sealer.unseal(v.materialSealed(), context(keyId, version)).revealBytes();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(both);
            byte[] priv = new byte[b.getInt()];
            b.get(priv);
            byte[] pub = new byte[b.remaining()];
            b.get(pub);
            try {
                java.security.KeyFactory f = java.security.KeyFactory.getInstance(keySpec.startsWith("RSA_") ? "RSA" : "EC");
                java.security.KeyPair pair = new java.security.KeyPair(f.generatePublic(new java.security.spec.X509EncodedKeySpec(pub)),
                        f.generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(priv)));
                pairs.put(cacheKey, pair);
                return pair;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("stored key pair does not decode", e);
            } finally {
                java.util.Arrays.fill(both, (byte) 0);
                java.util.Arrays.fill(priv, (byte) 0);
            }
        });
    }

    /** Encrypts under the key's current version into a ciphertext blob bound to the context. */
    public byte[] encrypt(Key k, byte[] plaintext, java.util.Map<String, String> context) {
        int version = currentVersion(k);
        SecretKeySpec key = material(k.keyId(), version, "AES").orElseThrow(() -> new IllegalStateException(
                "the key material of " + k.arn() + " is not available"));
        CiphertextBlob shape = new CiphertextBlob(k.keyId(), version, randomBytes(CiphertextBlob.NONCE_BYTES), new byte[0]);
        try {
            javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
            c.init(javax.crypto.Cipher.ENCRYPT_MODE, key, new javax.crypto.spec.GCMParameterSpec(128, shape.nonce()));
            c.updateAAD(shape.associatedData(context));
            return new CiphertextBlob(k.keyId(), version, shape.nonce(), c.doFinal(plaintext)).encode();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("encryption failed", e);
        }
    }

    /** Decrypts a blob of this key; empty when it does not open (other context, altered, destroyed version). */
    public Optional<byte[]> decrypt(CiphertextBlob blob, Key k, java.util.Map<String, String> context) {
        if (!blob.keyId().equals(k.keyId())) {
            return Optional.empty();
        }
        Optional<SecretKeySpec> key = material(k.keyId(), blob.keyVersion(), "AES");
        if (key.isEmpty()) {
            return Optional.empty();
        }
        try {
            javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
            c.init(javax.crypto.Cipher.DECRYPT_MODE, key.get(), new javax.crypto.spec.GCMParameterSpec(128, blob.nonce()));
            c.updateAAD(blob.associatedData(context));
            return Optional.of(c.doFinal(blob.ciphertext()));
        } catch (java.security.GeneralSecurityException e) {
            return Optional.empty();
        }
    }

    /**
     * A key Citadel keeps for its own use in an account (the secrets key, an account's S3-managed
     * key), found by its alias or created with it. Its policy lets the account's administrators
     * read about it and nobody use, disable, delete or re-police it through the API.
     */
    public Key managedKey(String accountId, String region, String alias, String description) {
        Optional<Key> existing = aliasTarget(accountId, alias).flatMap(this::key);
        if (existing.isPresent()) {
            return existing.get();
        }
        String keyId = java.util.UUID.randomUUID().toString();
        Instant now = clock.instant();
        Key key = new Key(keyId, accountId, "arn:aws:kms:" + region + ":" + accountId + ":key/" + keyId, description, "ENCRYPT_DECRYPT",
                "SYMMETRIC_DEFAULT", "Enabled", managedPolicy(accountId), false, 365, 1, Optional.empty(), now);
        try {
            change(h -> {
                KmsRepository repo = new KmsRepository(h);
                repo.insertKey(key);
                repo.addVersion(keyId, 1, newSealedMaterial(keyId, 1, 32), now);
                repo.insertAlias(new KmsRepository.Alias(accountId, alias, keyId, now));
            });
        } catch (dev.citadel.metadata.DuplicateKeyException e) {
            // Another request made it first: use that one.
            return aliasTarget(accountId, alias).flatMap(this::key).orElseThrow(() -> e);
        }
        return key;
    }

    private static String managedPolicy(String account) {
        return "{\"Version\":\"2012-10-17\",\"Id\":\"citadel-managed\",\"Statement\":["
                + "{\"Sid\":\"Describe\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" + account + ":root\"},"
                + "\"Action\":[\"kms:Describe*\",\"kms:Get*\",\"kms:List*\"],\"Resource\":\"*\"},"
                + "{\"Sid\":\"OnlyCitadel\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":[\"kms:Describe*\",\"kms:Get*\",\"kms:List*\"],"
                + "\"Resource\":\"*\"}]}";
    }

    /** Adds a version with new material; returns its number. */
    public int rotate(Key key) {
        int bytes = 32;
        return changeAndGet(h -> {
            KmsRepository repo = new KmsRepository(h);
            int next = repo.versions(key.keyId()).stream().mapToInt(KmsRepository.Version::version).max().orElse(0) + 1;
            repo.addVersion(key.keyId(), next, newSealedMaterial(key.keyId(), next, bytes), clock.instant());
            return next;
        });
    }

    /** Rotates a key whose automatic rotation is due; returns the current version afterwards. */
    public int currentVersion(Key key) {
        if (!key.rotationEnabled()) {
            return key.currentVersion();
        }
        Instant last = store.read(h -> new KmsRepository(h).version(key.keyId(), key.currentVersion()))
                .map(KmsRepository.Version::createdAt).orElse(key.createdAt());
        if (clock.instant().isBefore(last.plus(Duration.ofDays(key.rotationPeriodDays())))) {
            return key.currentVersion();
        }
        return rotate(key);
    }

    /** Destroys keys whose deletion date has passed (at most once a minute unless forced). */
    public void purgeIfDue() {
        long now = System.nanoTime();
        if (now - nextPurge < 0) {
            return;
        }
        nextPurge = now + PURGE_EVERY_NANOS;
        purge();
    }

    /** Destroys every key whose deletion date has passed: material, grants, aliases, tags, the key. */
    public int purge() {
        return changeAndGet(h -> {
            KmsRepository repo = new KmsRepository(h);
            int n = 0;
            for (Key k : repo.dueForDeletion(clock.instant())) {
                repo.destroy(k.keyId());
                material.keySet().removeIf(c -> c.startsWith(k.keyId() + "/"));
                pairs.keySet().removeIf(c -> c.startsWith(k.keyId() + "/"));
                n++;
            }
            return n;
        });
    }
}
