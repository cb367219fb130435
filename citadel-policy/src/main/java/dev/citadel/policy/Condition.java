package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One condition: an operator (with its {@code ForAnyValue:}/{@code ForAllValues:} qualifier and
 * {@code IfExists} suffix) applied to one context key and the policy's values for it (ORed).
 */
public record Condition(ConditionOperator operator, Qualifier qualifier, boolean ifExists, String key, List<String> values, String lowerKey) {
    /** How a multi-valued context key is compared. */
    public enum Qualifier { SINGLE, FOR_ANY_VALUE, FOR_ALL_VALUES }

    public Condition {
        requireNonNull(operator, "operator is null");
        requireNonNull(qualifier, "qualifier is null");
        requireNonNull(key, "key is null");
        values = List.copyOf(values);
        if (!lowerKey.equals(key.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("lowerKey must be the key in lower case");
        }
    }

    /** A condition on {@code key}; context keys compare without regard to case. */
    public Condition(ConditionOperator operator, Qualifier qualifier, boolean ifExists, String key, List<String> values) {
        this(operator, qualifier, ifExists, key, values, key.toLowerCase(java.util.Locale.ROOT));
    }
}
