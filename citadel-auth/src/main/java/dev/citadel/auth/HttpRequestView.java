package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parts of an HTTP request that SigV4 covers, exactly as received.
 *
 * @param rawPath  the path as on the wire, still percent-encoded, without the query
 * @param rawQuery the query as on the wire, or empty
 * @param headers  header names in lower case; each name's values in the order received
 */
public record HttpRequestView(String method, String rawPath, String rawQuery, Map<String, List<String>> headers) {
    public HttpRequestView {
        requireNonNull(method, "method is null");
        requireNonNull(rawPath, "rawPath is null");
        requireNonNull(rawQuery, "rawQuery is null");
        requireNonNull(headers, "headers is null");
        Map<String, List<String>> copy = new LinkedHashMap<>();
        headers.forEach((k, v) -> copy.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new java.util.ArrayList<>()).addAll(v));
        copy.replaceAll((k, v) -> List.copyOf(v));
        headers = java.util.Collections.unmodifiableMap(copy);
    }

    /** The first value of a header, or null. */
    public String header(String lowerName) {
        List<String> values = headers.get(lowerName);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }
}
