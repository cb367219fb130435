package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * One page of a listing and the opaque token of the next one, if any. A caller passes the token
 * back unchanged to continue; a token that was not produced by the same listing is refused with
 * {@link IllegalArgumentException}.
 */
public record Page<T>(List<T> items, Optional<String> nextToken) {
    public Page {
        items = List.copyOf(items);
        requireNonNull(nextToken, "nextToken is null");
    }
}
