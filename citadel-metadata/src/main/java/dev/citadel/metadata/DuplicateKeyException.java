package dev.citadel.metadata;

/** A write that would break a uniqueness rule (a name, an e-mail address, an id), on either dialect. */
public final class DuplicateKeyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DuplicateKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
