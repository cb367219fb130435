package dev.citadel.services.cloudtrail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.EventIndexRepository;
import dev.citadel.metadata.cloudtrail.EventIndexRepository.IndexedEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Feeds the event history (LookupEvents) from the audit log: reads the complete lines written
 * since the last offset, indexes the management events (data events are not in CloudTrail's event
 * history), and records the new offset in the same transaction. The audit log stays the record;
 * the index can be dropped and rebuilt from it, and re-reading a line indexes nothing twice.
 * Events of requests that never authenticated belong to no account; they are shown to the
 * operator's (management) account.
 */
public final class EventIndexer {
    private static final int CHUNK = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MetadataStore store;
    private final Path log;
    private final String operatorAccount;

    public EventIndexer(MetadataStore store, Path log, String operatorAccount) {
        this.store = store;
        this.log = log;
        this.operatorAccount = operatorAccount;
    }

    /** Indexes what the log holds beyond the stored offset; returns how many events it added. */
    public synchronized int catchUp() throws IOException {
        long offset = store.read(h -> new EventIndexRepository(h).offset());
        int added = 0;
        try (FileChannel in = FileChannel.open(log, StandardOpenOption.READ)) {
            if (in.size() < offset) {
                offset = 0; // the log was replaced: read it again (ids already indexed are skipped)
            }
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            while (offset < in.size()) {
                buffer.clear();
                int n = in.read(buffer, offset);
                if (n <= 0) {
                    break;
                }
                int end = -1;
                for (int i = n - 1; i >= 0; i--) {
                    if (buffer.get(i) == '\n') {
                        end = i;
                        break;
                    }
                }
                if (end < 0) {
                    break; // no complete line yet (or a line longer than a chunk, which the audit log never writes)
                }
                String text = new String(buffer.array(), 0, end + 1, StandardCharsets.UTF_8);
                List<IndexedEvent> events = new ArrayList<>();
                for (String line : text.split("\n")) {
                    parse(line).ifPresent(events::add);
                }
                long next = offset + end + 1;
                store.useTransaction(h -> {
                    EventIndexRepository repo = new EventIndexRepository(h);
                    events.forEach(repo::add);
                    repo.setOffset(next);
                });
                added += events.size();
                offset = next;
            }
        } catch (NoSuchFileException e) {
            return 0;
        }
        return added;
    }

    private java.util.Optional<IndexedEvent> parse(String line) {
        if (line.isBlank()) {
            return java.util.Optional.empty();
        }
        JsonNode e;
        try {
            e = JSON.readTree(line);
        } catch (IOException malformed) {
            return java.util.Optional.empty();
        }
        if (!e.path("managementEvent").asBoolean(true)) {
            return java.util.Optional.empty();
        }
        JsonNode who = e.path("userIdentity");
        String account = e.path("recipientAccountId").asText("");
        String arn = who.path("arn").asText("");
        String username = who.hasNonNull("userName") ? who.path("userName").asText() : arn.contains("/") ? arn.substring(arn.lastIndexOf('/') + 1) : "";
        StringBuilder resources = new StringBuilder("\n");
        for (JsonNode r : e.path("resources")) {
            resources.append(r.path("type").asText("")).append(' ').append(r.path("ARN").asText("")).append('\n');
        }
        Instant time;
        try {
            time = Instant.parse(e.path("eventTime").asText(""));
        } catch (java.time.format.DateTimeParseException bad) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new IndexedEvent(e.path("eventID").asText(""), account.isEmpty() ? operatorAccount : account, time,
                e.path("eventName").asText(""), e.path("eventSource").asText(""), username, who.path("accessKeyId").asText(""),
                e.path("readOnly").asBoolean(false), resources.toString(), line));
    }

    /** The audit log's current length (0 before its first event): where a trail created now starts delivering. */
    public long logSize() {
        try {
            return Files.size(log);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Whether the log exists yet (a fresh server writes it on its first request). */
    public boolean logExists() {
        return Files.exists(log);
    }
}
