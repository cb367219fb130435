package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/** A parsed, valid policy document. Policy variables are honoured only in version 2012-10-17. */
public record Policy(String version, Optional<String> id, List<Statement> statements) {
    public static final String CURRENT = "2012-10-17";
    public static final String LEGACY = "2008-10-17";

    public Policy {
        requireNonNull(version, "version is null");
        requireNonNull(id, "id is null");
        statements = List.copyOf(statements);
    }

    public boolean variablesEnabled() {
        return version.equals(CURRENT);
    }
}
