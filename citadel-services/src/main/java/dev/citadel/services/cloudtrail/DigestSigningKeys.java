package dev.citadel.services.cloudtrail;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.SigningKeyRepository;
import dev.citadel.metadata.cloudtrail.SigningKeyRepository.SigningKey;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The RSA-2048 keys that sign CloudTrail digest files (SHA256withRSA, PKCS#1 v1.5), one current
 * key per region, replaced yearly; every key stays listed for the digests it signed. The public
 * key is kept as PKCS#1 {@code RSAPublicKey} DER, which is what ListPublicKeys returns and what
 * {@code aws cloudtrail validate-logs} loads, and its fingerprint is the hex MD5 of that DER. The
 * private key is stored only sealed (the secrets key, under the root key).
 */
public final class DigestSigningKeys {
    static final Duration VALIDITY = Duration.ofDays(365);
    private static final String SEAL_CONTEXT = "cloudtrail-digest-signing-key";

    private final MetadataStore store;
    private final SecretSealer sealer;
    private final SecureRandom random;
    private final Clock clock;

    public DigestSigningKeys(MetadataStore store, SecretSealer sealer, SecureRandom random, Clock clock) {
        this.store = store;
        this.sealer = sealer;
        this.random = random;
        this.clock = clock;
    }

    /** The region's key valid now, made if there is none. */
    public synchronized SigningKey current(String region) {
        Instant now = clock.instant();
        List<SigningKey> valid = store.read(h -> new SigningKeyRepository(h).validBetween(region, now, now));
        if (!valid.isEmpty()) {
            return valid.getLast();
        }
        KeyPair pair;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048, random);
            pair = generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make an RSA key", e);
        }
        byte[] publicDer = pkcs1((RSAPublicKey) pair.getPublic());
        byte[] privateDer = pair.getPrivate().getEncoded();
        SecretBytes secret = SecretBytes.copyOf(privateDer);
        java.util.Arrays.fill(privateDer, (byte) 0);
        SigningKey key = new SigningKey(fingerprint(publicDer), region, publicDer, sealer.seal(secret, SEAL_CONTEXT), now, now.plus(VALIDITY));
        secret.destroy();
        store.useTransaction(h -> new SigningKeyRepository(h).insert(key));
        return key;
    }

    /** The region's keys valid at some time in [start, end] (ListPublicKeys). */
    public List<SigningKey> validBetween(String region, Instant start, Instant end) {
        return store.read(h -> new SigningKeyRepository(h).validBetween(region, start, end));
    }

    /** SHA256withRSA over {@code data} with the key's private half. */
    public byte[] sign(SigningKey key, byte[] data) {
        SecretBytes der = sealer.unseal(key.privateSealed(), SEAL_CONTEXT);
        try {
            PrivateKey privateKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der.revealBytes()));
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initSign(privateKey);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the digest key " + key.fingerprint(), e);
        } finally {
            der.destroy();
        }
    }

    /** Whether {@code signature} is SHA256withRSA over {@code data} by the PKCS#1 public key (for `citadel audit verify` and tests). */
    public static boolean verify(byte[] pkcs1PublicKey, byte[] data, byte[] signature) {
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(publicKey(pkcs1PublicKey));
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The hex MD5 of a public key's PKCS#1 DER, as digests name it. */
    public static String fingerprint(byte[] pkcs1) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(pkcs1));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** PKCS#1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, in DER. */
    static byte[] pkcs1(RSAPublicKey key) {
        byte[] n = derInteger(key.getModulus());
        byte[] e = derInteger(key.getPublicExponent());
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(n);
        body.writeBytes(e);
        return derTagged(0x30, body.toByteArray());
    }

    /** The public key of a PKCS#1 RSAPublicKey DER (just the two integers; anything else is refused). */
    static PublicKey publicKey(byte[] pkcs1) throws GeneralSecurityException {
        int[] at = {0};
        byte[] sequence = derRead(pkcs1, at, 0x30);
        if (at[0] != pkcs1.length) {
            throw new GeneralSecurityException("trailing bytes after the RSAPublicKey");
        }
        int[] inner = {0};
        BigInteger modulus = new BigInteger(derRead(sequence, inner, 0x02));
        BigInteger exponent = new BigInteger(derRead(sequence, inner, 0x02));
        if (inner[0] != sequence.length || modulus.signum() <= 0 || exponent.signum() <= 0) {
            throw new GeneralSecurityException("not an RSAPublicKey");
        }
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, exponent));
    }

    private static byte[] derInteger(BigInteger value) {
        return derTagged(0x02, value.toByteArray());
    }

    private static byte[] derTagged(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = content.length;
        if (length < 0x80) {
            out.write(length);
        } else {
            byte[] bytes = BigInteger.valueOf(length).toByteArray();
            int skip = bytes[0] == 0 ? 1 : 0;
            out.write(0x80 | (bytes.length - skip));
            out.write(bytes, skip, bytes.length - skip);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] derRead(byte[] der, int[] at, int tag) throws GeneralSecurityException {
        if (at[0] + 2 > der.length || (der[at[0]] & 0xff) != tag) {
            throw new GeneralSecurityException("unexpected DER tag");
        }
        int i = at[0] + 1;
        int length = der[i++] & 0xff;
        if (length >= 0x80) {
            int count = length & 0x7f;
            if (count == 0 || count > 4 || i + count > der.length) {
                throw new GeneralSecurityException("bad DER length");
            }
            length = 0;
            for (int k = 0; k < count; k++) {
                length = (length << 8) | (der[i++] & 0xff);
            }
            if (length < 0) {
                throw new GeneralSecurityException("bad DER length");
            }
        }
        if (i + length > der.length) {
            throw new GeneralSecurityException("DER value runs past the end");
        }
        at[0] = i + length;
        return java.util.Arrays.copyOfRange(der, i, i + length);
    }
}
