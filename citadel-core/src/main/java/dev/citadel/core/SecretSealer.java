package dev.citadel.core;

/**
 * Seals small secrets (secret access keys, TOTP seeds) before they are stored, binding each to a
 * context string (for example {@code iam/access-key/AKIA…}) so that a sealed value copied to
 * another row does not open. The KMS issue replaces the embedded implementation with envelope
 * sealing under KMS; callers do not change.
 */
public interface SecretSealer {
    byte[] seal(SecretBytes secret, String context);

    /** Throws {@link IllegalArgumentException} with one fixed message if the value does not open. */
    SecretBytes unseal(byte[] sealed, String context);
}
