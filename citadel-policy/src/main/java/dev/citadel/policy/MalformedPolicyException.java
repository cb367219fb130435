package dev.citadel.policy;

/** A policy document that IAM would refuse, with IAM's {@code MalformedPolicyDocument} message. */
public final class MalformedPolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MalformedPolicyException(String message) {
        super(message, null, false, false);
    }
}
