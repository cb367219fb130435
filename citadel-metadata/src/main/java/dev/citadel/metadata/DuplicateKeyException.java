package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

/**
 * A write that would break a uniqueness rule (a name, an e-mail address, an id), on either dialect.
 * {@link #constraint()} names the rule the same way on SQLite and PostgreSQL (see the repositories'
 * constants, such as {@code AccountRepository.ACCOUNT_EMAIL}), so a service can answer with the
 * matching AWS error: {@code EntityAlreadyExists}, {@code EMAIL_ALREADY_EXISTS}, ….
 */
public final class DuplicateKeyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String constraint;

    public DuplicateKeyException(String constraint, Throwable cause) {
        super("duplicate key: " + requireNonNull(constraint, "constraint is null"), cause);
        this.constraint = constraint;
    }

    /** {@code <table>_pkey} or {@code <table>_<columns>_key}, as declared in the migrations. */
    public String constraint() {
        return constraint;
    }
}
