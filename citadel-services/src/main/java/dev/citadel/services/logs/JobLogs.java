package dev.citadel.services.logs;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.logs.LogRepository;
import dev.citadel.metadata.logs.LogRepository.Chunk;
import dev.citadel.metadata.logs.LogRepository.ChunkInfo;
import dev.citadel.metadata.logs.LogRepository.Stream;
import dev.citadel.metadata.logs.LogRepository.StreamKey;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Job output as CloudWatch Logs keeps it: the producer side (the job scheduler makes a stream per
 * job container and appends its output) and the reading side {@link LogsService} uses. There is
 * no user-facing write API: only Citadel appends.
 *
 * <p>Each {@link #append} stores its events as one or more chunks (about {@value #CHUNK_BYTES}
 * bytes of messages each), so callers should batch (a second of output, say) rather than append
 * line by line. A chunk is sealed with the secrets sealer under the context
 * {@code logs-chunk:<account>:<region>:<group>:<stream>:<sequence>} (names cannot contain ':'), so a
 * chunk copied to another stream, or to another place in its own, does not open. The sealed
 * plaintext is, big-endian:
 * <pre>
 *   version   1 byte  (1)
 *   count     4 bytes (the chunk row's event_count)
 *   count times:
 *     timestamp  8 bytes, epoch ms
 *     length     4 bytes, at most {@value #MAX_MESSAGE_BYTES}
 *     message    length bytes of UTF-8
 * </pre>
 *
 * <p>As CloudWatch does, a message longer than {@value #MAX_MESSAGE_BYTES} bytes of UTF-8 (256 KiB
 * less the 26 bytes CloudWatch counts per event) is split into several events, and the stream's
 * size counts each event's message bytes plus 26. Once a stream would pass its cap, the events
 * that do not fit are dropped, one last event says so, and everything appended later is dropped.
 * Timestamps never go back within a stream: an event older than the stream's last one takes the
 * last one's timestamp, which keeps GetLogEvents' order the order of output.
 *
 * <p>Thread-safe: appends are serialized (a stream's state is read, its chunks sealed and the whole
 * written in one transaction while no other append runs).
 */
public final class JobLogs {
    /** The default per-stream cap: 32 MiB as CloudWatch counts it. */
    public static final long DEFAULT_MAX_STREAM_BYTES = 32L << 20;
    /** What CloudWatch adds to each event's message bytes when it counts sizes. */
    public static final int EVENT_OVERHEAD = 26;
    /** The longest message of one event, in UTF-8 bytes. */
    public static final int MAX_MESSAGE_BYTES = 256 * 1024 - EVENT_OVERHEAD;
    /** The messages' bytes a chunk collects before the next one starts (one longer event has a chunk of its own). */
    static final int CHUNK_BYTES = 128 * 1024;
    private static final byte VERSION = 1;
    private static final int MAX_NAME = 512;
    private static final Pattern GROUP_NAME = Pattern.compile("[\\.\\-_/#A-Za-z0-9]{1," + MAX_NAME + "}");
    private static final Pattern STREAM_NAME = Pattern.compile("[^:*\\p{Cntrl}]{1," + MAX_NAME + "}");

    /** One event of output. */
    public record Event(Instant timestamp, String message) {
        public Event {
            requireNonNull(timestamp, "timestamp is null");
            requireNonNull(message, "message is null");
        }
    }

    /**
     * An event as stored: its position in the stream (0 for the first event), timestamp, message and
     * the time its chunk was stored.
     */
    public record StoredEvent(long position, Instant timestamp, String message, Instant ingestionTime) {
        public StoredEvent {
            requireNonNull(timestamp, "timestamp is null");
            requireNonNull(message, "message is null");
            requireNonNull(ingestionTime, "ingestionTime is null");
        }

        /** What CloudWatch counts for this event: message bytes plus 26. */
        public int size() {
            return utf8Length(message) + EVENT_OVERHEAD;
        }
    }

    private final MetadataStore store;
    private final SecretSealer sealer;
    private final Clock clock;
    private final long maxStreamBytes;

    /** @param maxStreamBytes the per-stream cap (see {@link #DEFAULT_MAX_STREAM_BYTES}), at least 1 KiB */
    public JobLogs(MetadataStore store, SecretSealer sealer, Clock clock, long maxStreamBytes) {
        this.store = requireNonNull(store, "store is null");
        this.sealer = requireNonNull(sealer, "sealer is null");
        this.clock = requireNonNull(clock, "clock is null");
        if (maxStreamBytes < 1024) {
            throw new IllegalArgumentException("the log stream cap must be at least 1024 bytes, got " + maxStreamBytes);
        }
        this.maxStreamBytes = maxStreamBytes;
    }

    /** Whether a log group name is one CloudWatch accepts ({@code [.-_/#A-Za-z0-9]}, 1 to 512). */
    public static boolean validGroupName(String name) {
        return GROUP_NAME.matcher(name).matches();
    }

    /** Whether a log stream name is one CloudWatch accepts (1 to 512, no ':' or '*'). */
    public static boolean validStreamName(String name) {
        return STREAM_NAME.matcher(name).matches();
    }

    /**
     * Makes an empty stream (and so the group, if it is the group's first). Returns false when the
     * stream exists already, which leaves it as it was.
     *
     * @throws IllegalArgumentException for a name CloudWatch would refuse
     */
    public boolean createStream(String account, String region, String group, String stream) {
        StreamKey key = key(account, region, group, stream);
        try {
            store.useTransaction(h -> new LogRepository(h).insertStream(key, clock.instant()));
            return true;
        } catch (DuplicateKeyException e) {
            return false;
        }
    }

    /**
     * Appends events to a stream made by {@link #createStream}: long messages split, the cap
     * applied, the rest sealed and stored in chunks, all in one transaction.
     *
     * @throws IllegalArgumentException when there is no such stream
     */
    public synchronized void append(String account, String region, String group, String stream, List<Event> events) {
        StreamKey key = key(account, region, group, stream);
        List<Event> given = List.copyOf(events);
        Stream state = store.read(h -> new LogRepository(h).stream(key))
                .orElseThrow(() -> new IllegalArgumentException("no log stream " + group + " " + stream + " in " + account + " " + region));
        if (given.isEmpty() || state.truncated()) {
            return;
        }
        long stored = state.storedBytes();
        boolean truncated = false;
        Instant last = state.lastEventAt().orElse(Instant.EPOCH);
        List<Event> kept = new ArrayList<>();
        outer:
        for (Event e : given) {
            Instant at = e.timestamp().isBefore(last) ? last : e.timestamp();
            for (String piece : split(e.message())) {
                int size = utf8Length(piece) + EVENT_OVERHEAD;
                if (stored + size > maxStreamBytes) {
                    String note = "[citadel] This log stream reached its cap of " + maxStreamBytes + " bytes; later output was dropped.";
                    kept.add(new Event(at, note));
                    stored += utf8Length(note) + EVENT_OVERHEAD;
                    truncated = true;
                    break outer;
                }
                kept.add(new Event(at, piece));
                stored += size;
                last = at;
            }
        }
        Instant now = clock.instant();
        List<Chunk> chunks = new ArrayList<>();
        long sequence = state.nextSequence();
        List<Event> batch = new ArrayList<>();
        int batchBytes = 0;
        for (Event e : kept) {
            int size = utf8Length(e.message());
            if (!batch.isEmpty() && batchBytes + size > CHUNK_BYTES) {
                chunks.add(seal(key, sequence++, batch, now));
                batch = new ArrayList<>();
                batchBytes = 0;
            }
            batch.add(e);
            batchBytes += size;
        }
        chunks.add(seal(key, sequence++, batch, now));
        Instant lastAt = kept.getLast().timestamp();
        Stream updated = new Stream(key, state.createdAt(), Optional.of(state.firstEventAt().orElse(kept.getFirst().timestamp())),
                Optional.of(lastAt), Optional.of(now), stored, truncated, sequence);
        store.useTransaction(h -> new LogRepository(h).append(updated, chunks));
    }

    // ---- the reading side ----

    public Optional<Stream> stream(StreamKey key) {
        return store.read(h -> new LogRepository(h).stream(key));
    }

    public List<Stream> streams(String account, String region, String group) {
        return store.read(h -> new LogRepository(h).streams(account, region, group));
    }

    public List<LogRepository.Group> groups(String account, String region) {
        return store.read(h -> new LogRepository(h).groups(account, region));
    }

    public boolean groupExists(String account, String region, String group) {
        return store.read(h -> new LogRepository(h).groupExists(account, region, group));
    }

    public List<ChunkInfo> chunks(StreamKey key) {
        return store.read(h -> new LogRepository(h).chunks(key));
    }

    /** The events of one chunk, unsealed; {@code firstPosition} is the position of its first event in the stream. */
    public List<StoredEvent> events(StreamKey key, ChunkInfo chunk, long firstPosition) {
        byte[] sealed = store.read(h -> new LogRepository(h).payload(key, chunk.sequence()))
                .orElseThrow(() -> new IllegalStateException("a log chunk is missing: " + key + " " + chunk.sequence()));
        SecretBytes plain = sealer.unseal(sealed, context(key, chunk.sequence()));
        try {
            return decode(ByteBuffer.wrap(plain.revealBytes()), chunk, firstPosition);
        } finally {
            plain.destroy();
        }
    }

    // ---- chunks ----

    static String context(StreamKey key, long sequence) {
        return "logs-chunk:" + key.accountId() + ":" + key.region() + ":" + key.group() + ":" + key.stream() + ":" + sequence;
    }

    private Chunk seal(StreamKey key, long sequence, List<Event> events, Instant now) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(events.size());
            for (Event e : events) {
                byte[] m = e.message().getBytes(StandardCharsets.UTF_8);
                out.writeLong(e.timestamp().toEpochMilli());
                out.writeInt(m.length);
                out.write(m);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] plain = bytes.toByteArray();
        SecretBytes secret = SecretBytes.copyOf(plain);
        java.util.Arrays.fill(plain, (byte) 0);
        try {
            ChunkInfo info = new ChunkInfo(sequence, events.getFirst().timestamp(), events.getLast().timestamp(), events.size(), now);
            return new Chunk(info, sealer.seal(secret, context(key, sequence)));
        } finally {
            secret.destroy();
        }
    }

    private static List<StoredEvent> decode(ByteBuffer in, ChunkInfo chunk, long firstPosition) {
        try {
            if (in.get() != VERSION || in.getInt() != chunk.eventCount()) {
                throw new IllegalStateException("a log chunk is not in the expected format");
            }
            List<StoredEvent> out = new ArrayList<>(chunk.eventCount());
            for (int i = 0; i < chunk.eventCount(); i++) {
                long at = in.getLong();
                int length = in.getInt();
                if (length < 0 || length > MAX_MESSAGE_BYTES || length > in.remaining()) {
                    throw new IllegalStateException("a log chunk is not in the expected format");
                }
                String message = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
                in.position(in.position() + length);
                out.add(new StoredEvent(firstPosition + i, Instant.ofEpochMilli(at), message, chunk.ingestedAt()));
            }
            if (in.hasRemaining()) {
                throw new IllegalStateException("a log chunk is not in the expected format");
            }
            return out;
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalStateException("a log chunk is not in the expected format");
        }
    }

    // ---- messages ----

    /** A message in pieces of at most {@value #MAX_MESSAGE_BYTES} UTF-8 bytes, never splitting a character. */
    static List<String> split(String message) {
        if (message.length() * 3L <= MAX_MESSAGE_BYTES || utf8Length(message) <= MAX_MESSAGE_BYTES) {
            return List.of(message);
        }
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int bytes = 0;
        for (int i = 0; i < message.length(); ) {
            int cp = message.codePointAt(i);
            int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            if (bytes + n > MAX_MESSAGE_BYTES) {
                pieces.add(message.substring(start, i));
                start = i;
                bytes = 0;
            }
            bytes += n;
            i += Character.charCount(cp);
        }
        pieces.add(message.substring(start));
        return pieces;
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static StreamKey key(String account, String region, String group, String stream) {
        requireNonNull(account, "account is null");
        requireNonNull(region, "region is null");
        requireNonNull(group, "group is null");
        requireNonNull(stream, "stream is null");
        if (!account.matches("\\d{12}") || !region.matches("[a-z0-9-]{1,32}")) {
            throw new IllegalArgumentException("not an account and region: " + account + " " + region);
        }
        if (!validGroupName(group)) {
            throw new IllegalArgumentException("not a log group name CloudWatch accepts: " + group);
        }
        if (!validStreamName(stream)) {
            throw new IllegalArgumentException("not a log stream name CloudWatch accepts: " + stream);
        }
        return new StreamKey(account, region, group, stream);
    }
}
