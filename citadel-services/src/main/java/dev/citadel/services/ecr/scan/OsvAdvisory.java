package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One advisory in the OSV format (ossf/osv-schema 1.x), with the fields matching and reporting
 * use:
 * <pre>{@code
 * { "id": "DEBIAN-CVE-2016-2781", "modified": "<RFC 3339>", "withdrawn": "<RFC 3339>"?,
 *   "aliases": ["CVE-…"], "upstream": ["CVE-…"], "summary": "…", "details": "…",
 *   "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/…"}],
 *   "affected": [{ "package": {"ecosystem": "Debian:12", "name": "coreutils", "purl": "…"},
 *                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "…"}]}],
 *                  "versions": ["…"], "severity": […],
 *                  "ecosystem_specific": {"urgency": "low"}, "database_specific": {"severity": "…"} }],
 *   "references": [{"type": "ADVISORY", "url": "https://…"}],
 *   "database_specific": {"severity": "HIGH"} }
 * }</pre>
 * Other fields are ignored. Affected entries without a package (those that name only a git
 * repository) are dropped.
 *
 * <p>Untrusted input: at most {@link #MAX_DOCUMENT_BYTES}, nesting depth 64, no duplicate keys;
 * {@code id} of at most 128 characters from {@code [A-Za-z0-9._:-]}; at most
 * {@link #MAX_AFFECTED} affected entries, {@link #MAX_LIST} versions or events or references per
 * list. Anything else is an {@link InvalidAdvisoryException} with a message naming the problem.
 */
public record OsvAdvisory(String id, Instant modified, Optional<Instant> withdrawn, List<String> aliases, List<String> upstream,
                          String summary, String details, List<Score> severity, List<Affected> affected, List<Reference> references,
                          Optional<String> databaseSeverity) {
    static final int MAX_DOCUMENT_BYTES = 16 << 20;
    static final int MAX_AFFECTED = 10_000;
    static final int MAX_LIST = 200_000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(100).build()).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public OsvAdvisory {
        requireNonNull(id, "id is null");
        requireNonNull(modified, "modified is null");
        requireNonNull(withdrawn, "withdrawn is null");
        aliases = List.copyOf(aliases);
        upstream = List.copyOf(upstream);
        requireNonNull(summary, "summary is null");
        requireNonNull(details, "details is null");
        severity = List.copyOf(severity);
        affected = List.copyOf(affected);
        references = List.copyOf(references);
        requireNonNull(databaseSeverity, "databaseSeverity is null");
    }

    /** A severity entry: {@code CVSS_V3}, {@code CVSS_V4}, {@code CVSS_V2}, {@code Ubuntu}, … with its score or vector. */
    public record Score(String type, String score) {
    }

    /** A package an advisory affects, with the versions it affects and what its database says of the severity there. */
    public record Affected(String ecosystem, String name, List<Range> ranges, List<String> versions, Optional<String> ecosystemSeverity,
                           List<Score> severity) {
        public Affected {
            ranges = List.copyOf(ranges);
            versions = List.copyOf(versions);
        }
    }

    /** A range of affected versions: {@code ECOSYSTEM}, {@code SEMVER} or {@code GIT}, and its events in the order given. */
    public record Range(String type, List<Event> events) {
        public Range {
            events = List.copyOf(events);
        }
    }

    public enum EventKind {
        INTRODUCED, FIXED, LAST_AFFECTED, LIMIT
    }

    public record Event(EventKind kind, String version) {
    }

    public record Reference(String type, String url) {
    }

    /** Parses one OSV document. */
    public static OsvAdvisory parse(byte[] document) throws InvalidAdvisoryException {
        if (document.length > MAX_DOCUMENT_BYTES) {
            throw new InvalidAdvisoryException("larger than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        return of(readTree(document));
    }

    /** Parses JSON text with the same limits as {@link #parse}; the importer reads files that may hold several advisories. */
    static JsonNode readTree(byte[] document) throws InvalidAdvisoryException {
        if (document.length > MAX_DOCUMENT_BYTES) {
            throw new InvalidAdvisoryException("larger than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        try {
            return JSON.readTree(document);
        } catch (IOException e) {
            throw new InvalidAdvisoryException("not JSON: " + firstLine(e.getMessage()));
        }
    }

    /** Compact JSON text of a node (as stored). */
    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Reads an advisory from a parsed JSON document. */
    static OsvAdvisory of(JsonNode root) throws InvalidAdvisoryException {
        if (root == null || !root.isObject()) {
            throw new InvalidAdvisoryException("not a JSON object");
        }
        String id = text(root, "id").orElseThrow(() -> new InvalidAdvisoryException("no id"));
        if (!ID.matcher(id).matches()) {
            throw new InvalidAdvisoryException("id is not an OSV identifier");
        }
        Instant modified = time(root, "modified").orElseThrow(() -> new InvalidAdvisoryException(id + ": no modified time"));
        Optional<Instant> withdrawn = time(root, "withdrawn");
        List<Affected> affected = new ArrayList<>();
        for (JsonNode a : array(root, "affected", MAX_AFFECTED)) {
            JsonNode pkg = a.get("package");
            if (pkg == null || pkg.isNull()) {
                continue;
            }
            String ecosystem = text(pkg, "ecosystem").filter(s -> !s.isEmpty() && s.length() <= 128)
                    .orElseThrow(() -> new InvalidAdvisoryException(id + ": an affected package has no ecosystem"));
            String name = text(pkg, "name").filter(s -> !s.isEmpty() && s.length() <= 512)
                    .orElseThrow(() -> new InvalidAdvisoryException(id + ": an affected package has no name"));
            List<Range> ranges = new ArrayList<>();
            for (JsonNode r : array(a, "ranges", MAX_LIST)) {
                String type = text(r, "type").orElseThrow(() -> new InvalidAdvisoryException(id + ": a range has no type"));
                List<Event> events = new ArrayList<>();
                for (JsonNode e : array(r, "events", MAX_LIST)) {
                    events.add(event(id, e));
                }
                ranges.add(new Range(type, events));
            }
            Optional<String> label = Optional.empty();
            JsonNode eco = a.get("ecosystem_specific");
            JsonNode db = a.get("database_specific");
            for (JsonNode holder : new JsonNode[] {eco, db}) {
                for (String key : List.of("urgency", "severity", "priority")) {
                    if (label.isEmpty() && holder != null && holder.isObject()) {
                        label = lenientText(holder, key);
                    }
                }
            }
            affected.add(new Affected(ecosystem, name, ranges, strings(a, "versions", MAX_LIST, 256), label, scores(id, a)));
        }
        List<Reference> references = new ArrayList<>();
        for (JsonNode r : array(root, "references", MAX_LIST)) {
            lenientText(r, "url").ifPresent(u -> references.add(new Reference(lenientText(r, "type").orElse(""), u)));
        }
        Optional<String> dbSeverity = Optional.empty();
        JsonNode db = root.get("database_specific");
        if (db != null && db.isObject()) {
            dbSeverity = lenientText(db, "severity");
        }
        return new OsvAdvisory(id, modified, withdrawn, strings(root, "aliases", MAX_LIST, 256), strings(root, "upstream", MAX_LIST, 256),
                text(root, "summary").orElse(""), text(root, "details").orElse(""), scores(id, root), affected, references, dbSeverity);
    }

    private static Event event(String id, JsonNode e) throws InvalidAdvisoryException {
        if (e == null || !e.isObject() || e.size() != 1) {
            throw new InvalidAdvisoryException(id + ": an event must have exactly one of introduced, fixed, last_affected, limit");
        }
        String key = e.fieldNames().next();
        EventKind kind = switch (key) {
            case "introduced" -> EventKind.INTRODUCED;
            case "fixed" -> EventKind.FIXED;
            case "last_affected" -> EventKind.LAST_AFFECTED;
            case "limit" -> EventKind.LIMIT;
            default -> throw new InvalidAdvisoryException(id + ": unknown event " + key.substring(0, Math.min(key.length(), 40)));
        };
        String version = text(e, key).filter(v -> !v.isEmpty() && v.length() <= 256)
                .orElseThrow(() -> new InvalidAdvisoryException(id + ": an event's version must be a non-empty string"));
        return new Event(kind, version);
    }

    private static List<Score> scores(String id, JsonNode holder) throws InvalidAdvisoryException {
        List<Score> out = new ArrayList<>();
        for (JsonNode s : array(holder, "severity", MAX_LIST)) {
            Optional<String> type = text(s, "type");
            Optional<String> score = text(s, "score");
            if (type.isEmpty() || score.isEmpty()) {
                throw new InvalidAdvisoryException(id + ": a severity needs a type and a score");
            }
            out.add(new Score(type.get(), score.get()));
        }
        return out;
    }

    private static List<JsonNode> array(JsonNode holder, String field, int max) throws InvalidAdvisoryException {
        JsonNode n = holder.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new InvalidAdvisoryException(field + " is not an array");
        }
        if (n.size() > max) {
            throw new InvalidAdvisoryException(field + " has more than " + max + " entries");
        }
        List<JsonNode> out = new ArrayList<>(n.size());
        for (JsonNode e : n) {
            if (!e.isObject()) {
                throw new InvalidAdvisoryException("an entry of " + field + " is not an object");
            }
            out.add(e);
        }
        return out;
    }

    private static List<String> strings(JsonNode holder, String field, int max, int maxLength) throws InvalidAdvisoryException {
        JsonNode n = holder.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray() || n.size() > max) {
            throw new InvalidAdvisoryException(field + " is not an array of at most " + max + " strings");
        }
        List<String> out = new ArrayList<>(n.size());
        for (JsonNode e : n) {
            if (!e.isTextual() || e.textValue().length() > maxLength) {
                throw new InvalidAdvisoryException(field + " holds something other than a string of at most " + maxLength + " characters");
            }
            out.add(e.textValue());
        }
        return out;
    }

    private static Optional<String> text(JsonNode holder, String field) throws InvalidAdvisoryException {
        JsonNode n = holder.get(field);
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isTextual()) {
            throw new InvalidAdvisoryException(field + " is not a string");
        }
        return Optional.of(n.textValue());
    }

    /** A string member, or empty when it is absent or not a string (database-specific fields have no fixed schema). */
    private static Optional<String> lenientText(JsonNode holder, String field) {
        JsonNode n = holder.get(field);
        return n != null && n.isTextual() ? Optional.of(n.textValue()) : Optional.empty();
    }

    private static Optional<Instant> time(JsonNode holder, String field) throws InvalidAdvisoryException {
        Optional<String> t = text(holder, field);
        if (t.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(t.get().trim().toUpperCase(Locale.ROOT)).toInstant());
        } catch (DateTimeParseException e) {
            throw new InvalidAdvisoryException(field + " is not an RFC 3339 time");
        }
    }

    private static String firstLine(String s) {
        String m = String.valueOf(s);
        int nl = m.indexOf('\n');
        m = nl < 0 ? m : m.substring(0, nl);
        return m.length() > 200 ? m.substring(0, 200) : m;
    }

    /** An OSV document that cannot be used; the message says why without echoing large input. */
    public static final class InvalidAdvisoryException extends Exception {
        private static final long serialVersionUID = 1L;

        public InvalidAdvisoryException(String message) {
            super(message);
        }
    }
}
