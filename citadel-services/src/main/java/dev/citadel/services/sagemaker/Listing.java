package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The List* operations' common part, as SageMaker defines it: CreationTimeAfter/Before,
 * LastModifiedTimeAfter/Before, NameContains, StatusEquals, SortBy (Name, CreationTime, Status),
 * SortOrder (Descending by default), MaxResults (1–100, 10 by default) and an opaque NextToken.
 * Every member is validated before anything is read.
 */
final class Listing<T> {
    /** What a listed item offers the filters and orders. */
    record Facts(String name, Instant created, Instant modified, String status) {
    }

    private final Optional<Instant> createdAfter;
    private final Optional<Instant> createdBefore;
    private final Optional<Instant> modifiedAfter;
    private final Optional<Instant> modifiedBefore;
    private final String contains;
    private final String status;
    private final String sortBy;
    private final boolean ascending;
    private final int max;
    private final int from;

    /**
     * @param statuses the values StatusEquals may take (empty: the operation has no StatusEquals)
     * @param sortKeys the SortBy values the operation accepts
     */
    Listing(ObjectNode in, List<String> statuses, List<String> sortKeys) {
        createdAfter = time(in, "CreationTimeAfter");
        createdBefore = time(in, "CreationTimeBefore");
        modifiedAfter = time(in, "LastModifiedTimeAfter");
        modifiedBefore = time(in, "LastModifiedTimeBefore");
        contains = in.path("NameContains").asText("").toLowerCase(Locale.ROOT);
        if (contains.length() > 63) {
            throw JobRequests.invalid("NameContains is at most 63 characters.");
        }
        status = in.path("StatusEquals").asText("");
        if (!status.isEmpty() && !statuses.contains(status)) {
            throw JobRequests.invalid("StatusEquals must be one of " + String.join(", ", statuses) + ".");
        }
        sortBy = in.path("SortBy").asText("CreationTime");
        if (!sortKeys.contains(sortBy)) {
            throw JobRequests.invalid("SortBy must be one of " + String.join(", ", sortKeys) + ".");
        }
        String order = in.path("SortOrder").asText("Descending");
        if (!order.equals("Ascending") && !order.equals("Descending")) {
            throw JobRequests.invalid("SortOrder must be Ascending or Descending.");
        }
        ascending = order.equals("Ascending");
        max = in.has("MaxResults") ? in.path("MaxResults").asInt(-1) : 10;
        if (max < 1 || max > 100) {
            throw JobRequests.invalid("MaxResults must be between 1 and 100.");
        }
        String token = in.path("NextToken").asText("");
        int start = 0;
        if (!token.isEmpty()) {
            try {
                start = Integer.parseInt(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw JobRequests.invalid("Invalid pagination token.");
            }
            if (start < 0) {
                throw JobRequests.invalid("Invalid pagination token.");
            }
        }
        from = start;
    }

    /** One page of {@code items}, filtered and ordered; {@code render} adds each to {@code list}; the NextToken goes on {@code out}. */
    void page(List<T> items, Function<T, Facts> facts, ObjectNode out, String list, java.util.function.BiConsumer<T, ObjectNode> render) {
        List<T> kept = new ArrayList<>();
        for (T item : items) {
            Facts f = facts.apply(item);
            if (createdAfter.map(t -> f.created().isAfter(t)).orElse(true) && createdBefore.map(t -> f.created().isBefore(t)).orElse(true)
                    && modifiedAfter.map(t -> f.modified().isAfter(t)).orElse(true)
                    && modifiedBefore.map(t -> f.modified().isBefore(t)).orElse(true)
                    && f.name().toLowerCase(Locale.ROOT).contains(contains) && (status.isEmpty() || f.status().equals(status))) {
                kept.add(item);
            }
        }
        Comparator<Facts> by = switch (sortBy) {
            case "Name" -> Comparator.comparing(Facts::name);
            case "Status" -> Comparator.comparing(Facts::status).thenComparing(Facts::created);
            default -> Comparator.comparing(Facts::created).thenComparing(Facts::name);
        };
        Comparator<T> order = Comparator.comparing(facts, ascending ? by : by.reversed());
        kept.sort(order);
        if (from > kept.size()) {
            throw JobRequests.invalid("Invalid pagination token.");
        }
        int to = Math.min(kept.size(), from + max);
        com.fasterxml.jackson.databind.node.ArrayNode array = out.putArray(list);
        for (T item : kept.subList(from, to)) {
            render.accept(item, array.addObject());
        }
        if (to < kept.size()) {
            out.put("NextToken", Base64.getUrlEncoder().withoutPadding().encodeToString(Integer.toString(to).getBytes(StandardCharsets.UTF_8)));
        }
    }

    private static Optional<Instant> time(ObjectNode in, String member) {
        JsonNode n = in.path(member);
        if (n.isMissingNode() || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isNumber()) {
            throw JobRequests.invalid(member + " must be a timestamp.");
        }
        return Optional.of(Instant.ofEpochMilli((long) (n.asDouble() * 1000)));
    }
}
