package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * One policy statement. {@code principals} is empty for identity policies; {@code notPrincipal},
 * {@code notAction} and {@code notResource} say the list is the complement. A principal entry is
 * {@code *} or an ARN or account id, prefixed by its kind ({@code AWS:}, {@code Service:},
 * {@code Federated:}).
 */
public record Statement(Optional<String> sid, Effect effect, List<String> principals, boolean notPrincipal, List<String> actions,
        boolean notAction, List<String> resources, boolean notResource, List<Condition> conditions) {
    public Statement {
        requireNonNull(sid, "sid is null");
        requireNonNull(effect, "effect is null");
        principals = List.copyOf(principals);
        actions = List.copyOf(actions);
        resources = List.copyOf(resources);
        conditions = List.copyOf(conditions);
    }
}
