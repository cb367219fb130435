package dev.citadel.services.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.logs.LogRepository;
import dev.citadel.metadata.logs.LogRepository.ChunkInfo;
import dev.citadel.metadata.logs.LogRepository.Stream;
import dev.citadel.metadata.logs.LogRepository.StreamKey;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.logs.JobLogs.StoredEvent;
import dev.citadel.services.logs.PageTokens.Cursor;
import dev.citadel.wire.Protocol;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CloudWatch Logs subset that reads job output (awsJson1_1, {@code Logs_20140328}):
 * DescribeLogGroups, DescribeLogStreams, GetLogEvents and FilterLogEvents, over what
 * {@link JobLogs} stored for training and processing jobs ({@code /aws/sagemaker/TrainingJobs},
 * {@code /aws/sagemaker/ProcessingJobs}). There is no write API: only Citadel appends. An account
 * sees only its own groups (a group exists once a stream was made in it); a group named by the
 * ARN of another account's group is that account's resource, refused by IAM as AWS refuses it
 * without a resource policy. Resources as the Service Authorization Reference types them:
 * {@code log-group} ({@code arn:aws:logs:<region>:<account>:log-group:<name>:*}) for
 * DescribeLogStreams and FilterLogEvents, {@code log-stream}
 * ({@code …:log-group:<name>:log-stream:<stream>}) for GetLogEvents, and for DescribeLogGroups
 * the account's {@code …:log-group::log-stream:} that AWS names in its refusals.
 */
public final class LogsService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("logs", "logs", "logs", Protocol.AWS_JSON_1_1,
            "Logs_20140328", "2014-03-28", "", "logs.amazonaws.com", false);
    static final String INVALID = "InvalidParameterException";
    static final int MAX_EVENTS = 10_000;
    static final int MAX_RESPONSE_BYTES = 1024 * 1024;
    /** The events one FilterLogEvents call examines at most before it answers with what it found and a nextToken. */
    static final int SCAN_BUDGET = 100_000;
    private static final Pattern GROUP_ARN = Pattern.compile("arn:aws:logs:([a-z0-9-]+):(\\d{12}):log-group:([^:]*)(?::\\*)?");

    private final JobLogs logs;

    public LogsService(JobLogs logs) {
        this.logs = logs;
    }

    public List<Operation> operations() {
        return List.of(
                op("DescribeLogGroups", (ctx, in) -> List.of("arn:aws:logs:" + ctx.region() + ":" + ctx.principal().account().value()
                        + ":log-group::log-stream:"), this::describeLogGroups),
                op("DescribeLogStreams", (ctx, in) -> List.of(group(ctx, in).arn()), this::describeLogStreams),
                op("GetLogEvents", (ctx, in) -> List.of(group(ctx, in).streamArn(streamName(in))), this::getLogEvents),
                op("FilterLogEvents", (ctx, in) -> List.of(group(ctx, in).arn()), this::filterLogEvents));
    }

    private static Operation op(String name, ResourceResolver resources, Operation.Handler handler) {
        return Operation.of(OperationSpec.builder("logs", name).resources(resources).readOnly().maxBodyBytes(64 * 1024).build(), handler);
    }

    // ---- names ----

    /** The log group a request names, by logGroupName or logGroupIdentifier (a name or an ARN). */
    record GroupRef(String account, String region, String name) {
        String arn() {
            return "arn:aws:logs:" + region + ":" + account + ":log-group:" + name + ":*";
        }

        String streamArn(String stream) {
            return "arn:aws:logs:" + region + ":" + account + ":log-group:" + name + ":log-stream:" + stream;
        }

        StreamKey key(String stream) {
            return new StreamKey(account, region, name, stream);
        }
    }

    static GroupRef group(RequestContext ctx, ObjectNode in) {
        String name = in.path("logGroupName").asText("");
        String identifier = in.path("logGroupIdentifier").asText("");
        String account = ctx.principal().account().value();
        if (!name.isEmpty() && !identifier.isEmpty()) {
            throw new AwsException(INVALID, 400, "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
        }
        if (name.isEmpty() && identifier.isEmpty()) {
            throw new AwsException(INVALID, 400, "Either logGroupName or logGroupIdentifier must be specified.");
        }
        if (!identifier.isEmpty()) {
            Matcher m = GROUP_ARN.matcher(identifier);
            if (m.matches()) {
                if (!m.group(1).equals(ctx.region())) {
                    throw new AwsException(INVALID, 400, "The log group ARN names another region than the request's.");
                }
                account = m.group(2);
                name = m.group(3);
            } else if (identifier.startsWith("arn:")) {
                throw new AwsException(INVALID, 400, "Invalid parameter at 'logGroupIdentifier': not a log group ARN.");
            } else {
                name = identifier;
            }
        }
        if (!JobLogs.validGroupName(name)) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + name + "' at 'logGroupName' failed to satisfy "
                    + "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+");
        }
        return new GroupRef(account, ctx.region(), name);
    }

    static String streamName(ObjectNode in) {
        String stream = in.path("logStreamName").asText("");
        if (!JobLogs.validStreamName(stream)) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + stream + "' at 'logStreamName' failed to satisfy "
                    + "constraint: Member must satisfy regular expression pattern: [^:*]* and length 1 to 512");
        }
        return stream;
    }

    private void requireGroup(GroupRef g) {
        if (!logs.groupExists(g.account(), g.region(), g.name())) {
            throw new AwsException("ResourceNotFoundException", 400, "The specified log group does not exist.");
        }
    }

    static int limit(ObjectNode in, int max, int defaultValue) {
        JsonNode l = in.path("limit");
        if (l.isMissingNode() || l.isNull()) {
            return defaultValue;
        }
        if (!l.canConvertToInt() || l.asInt() < 1 || l.asInt() > max) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + l.asText() + "' at 'limit' failed to satisfy "
                    + "constraint: Member must have value between 1 and " + max);
        }
        return l.asInt();
    }

    static long time(ObjectNode in, String member, long defaultValue) {
        JsonNode t = in.path(member);
        if (t.isMissingNode() || t.isNull()) {
            return defaultValue;
        }
        if (!t.canConvertToLong() || t.asLong() < 0) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + t.asText() + "' at '" + member
                    + "' failed to satisfy constraint: Member must have value greater than or equal to 0");
        }
        return t.asLong();
    }

    private static String scope(String... parts) {
        return String.join("\0", parts);
    }

    // ---- DescribeLogGroups ----

    JsonNode describeLogGroups(RequestContext ctx, ObjectNode in) {
        String account = ctx.principal().account().value();
        String prefix = in.path("logGroupNamePrefix").asText("");
        String pattern = in.path("logGroupNamePattern").asText("");
        if (!prefix.isEmpty() && !pattern.isEmpty()) {
            throw new AwsException(INVALID, 400, "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
        }
        int limit = limit(in, 50, 50);
        String scope = scope("DescribeLogGroups", account, ctx.region(), prefix, pattern);
        String token = in.path("nextToken").asText("");
        String after = token.isEmpty() ? null : PageTokens.decode(scope, "", token).name();
        String needle = pattern.toLowerCase(java.util.Locale.ROOT);
        List<LogRepository.Group> found = logs.groups(account, ctx.region()).stream()
                .filter(g -> g.name().startsWith(prefix) && g.name().toLowerCase(java.util.Locale.ROOT).contains(needle))
                .filter(g -> after == null || compareBytes(g.name(), after) > 0).toList();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("logGroups");
        for (LogRepository.Group g : found.subList(0, Math.min(limit, found.size()))) {
            String arn = "arn:aws:logs:" + ctx.region() + ":" + account + ":log-group:" + g.name();
            list.addObject().put("logGroupName", g.name()).put("creationTime", g.createdAt().toEpochMilli()).put("metricFilterCount", 0)
                    .put("arn", arn + ":*").put("storedBytes", g.storedBytes()).put("logGroupClass", "STANDARD").put("logGroupArn", arn);
        }
        if (found.size() > limit) {
            out.put("nextToken", PageTokens.encode(scope, "", new Cursor(0, 0, found.get(limit - 1).name())));
        }
        return out;
    }

    // ---- DescribeLogStreams ----

    JsonNode describeLogStreams(RequestContext ctx, ObjectNode in) {
        GroupRef g = group(ctx, in);
        String prefix = in.path("logStreamNamePrefix").asText("");
        String orderBy = in.path("orderBy").asText("LogStreamName");
        if (!orderBy.equals("LogStreamName") && !orderBy.equals("LastEventTime")) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + orderBy + "' at 'orderBy' failed to satisfy "
                    + "constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]");
        }
        boolean byTime = orderBy.equals("LastEventTime");
        if (byTime && !prefix.isEmpty()) {
            throw new AwsException(INVALID, 400, "Cannot order by LastEventTime with a logStreamNamePrefix.");
        }
        boolean descending = in.path("descending").asBoolean(false);
        int limit = limit(in, 50, 50);
        requireGroup(g);
        String scope = scope("DescribeLogStreams", g.account(), g.region(), g.name(), prefix, orderBy, Boolean.toString(descending));
        String token = in.path("nextToken").asText("");
        Cursor after = token.isEmpty() ? null : PageTokens.decode(scope, "", token);
        Comparator<Stream> order = byTime
                ? Comparator.<Stream>comparingLong(LogsService::lastEvent).thenComparing((a, b) -> compareBytes(a.key().stream(), b.key().stream()))
                : (a, b) -> compareBytes(a.key().stream(), b.key().stream());
        if (descending) {
            order = order.reversed();
        }
        Comparator<Stream> sort = order;
        List<Stream> found = logs.streams(g.account(), g.region(), g.name()).stream().filter(s -> s.key().stream().startsWith(prefix))
                .sorted(sort).filter(s -> after == null || sort.compare(s, cursorStream(g, after)) > 0).toList();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("logStreams");
        for (Stream s : found.subList(0, Math.min(limit, found.size()))) {
            ObjectNode n = list.addObject().put("logStreamName", s.key().stream()).put("creationTime", s.createdAt().toEpochMilli());
            s.firstEventAt().ifPresent(t -> n.put("firstEventTimestamp", t.toEpochMilli()));
            s.lastEventAt().ifPresent(t -> n.put("lastEventTimestamp", t.toEpochMilli()));
            s.lastIngestedAt().ifPresent(t -> n.put("lastIngestionTime", t.toEpochMilli()));
            n.put("arn", g.streamArn(s.key().stream())).put("storedBytes", s.storedBytes());
        }
        if (found.size() > limit) {
            Stream last = found.get(limit - 1);
            out.put("nextToken", PageTokens.encode(scope, "", new Cursor(0, lastEvent(last), last.key().stream())));
        }
        return out;
    }

    private static long lastEvent(Stream s) {
        return s.lastEventAt().map(java.time.Instant::toEpochMilli).orElse(0L);
    }

    private static Stream cursorStream(GroupRef g, Cursor c) {
        java.time.Instant at = java.time.Instant.ofEpochMilli(c.timestamp());
        return new Stream(g.key(c.name()), at, java.util.Optional.empty(), c.timestamp() == 0 ? java.util.Optional.empty()
                : java.util.Optional.of(at), java.util.Optional.empty(), 0, false, 0);
    }

    // ---- GetLogEvents ----

    /** A stream's chunks with the position of each one's first event. */
    private record Layout(StreamKey key, List<ChunkInfo> chunks, long[] starts, long total) {
        static Layout of(StreamKey key, List<ChunkInfo> chunks) {
            long[] starts = new long[chunks.size()];
            long total = 0;
            for (int i = 0; i < chunks.size(); i++) {
                starts[i] = total;
                total += chunks.get(i).eventCount();
            }
            return new Layout(key, chunks, starts, total);
        }

        /** The chunk holding position p (0 ≤ p < total). */
        int chunkOf(long p) {
            int i = java.util.Arrays.binarySearch(starts, p);
            return i >= 0 ? i : -i - 2;
        }
    }

    /** The first position whose timestamp is at or after {@code t} (total when none). */
    private long firstAtOrAfter(Layout l, long t) {
        for (int i = 0; i < l.chunks().size(); i++) {
            ChunkInfo c = l.chunks().get(i);
            if (c.lastEventAt().toEpochMilli() < t) {
                continue;
            }
            if (c.firstEventAt().toEpochMilli() >= t) {
                return l.starts()[i];
            }
            for (StoredEvent e : logs.events(l.key(), c, l.starts()[i])) {
                if (e.timestamp().toEpochMilli() >= t) {
                    return e.position();
                }
            }
        }
        return l.total();
    }

    JsonNode getLogEvents(RequestContext ctx, ObjectNode in) {
        GroupRef g = group(ctx, in);
        String streamName = streamName(in);
        int limit = limit(in, MAX_EVENTS, MAX_EVENTS);
        long startTime = time(in, "startTime", Long.MIN_VALUE);
        long endTime = time(in, "endTime", Long.MAX_VALUE);
        boolean fromHead = in.path("startFromHead").asBoolean(false);
        String token = in.path("nextToken").asText("");
        String scope = scope("GetLogEvents", g.account(), g.region(), g.name(), streamName);
        Cursor cursor = null;
        boolean forward = fromHead;
        if (!token.isEmpty()) {
            forward = token.startsWith("f/");
            cursor = PageTokens.decode(scope, forward ? "f/" : "b/", token);
        }
        requireGroup(g);
        StreamKey key = g.key(streamName);
        if (logs.stream(key).isEmpty()) {
            throw new AwsException("ResourceNotFoundException", 400, "The specified log stream does not exist.");
        }
        Layout l = Layout.of(key, logs.chunks(key));
        long lo = startTime == Long.MIN_VALUE ? 0 : firstAtOrAfter(l, startTime);
        long hi = endTime == Long.MAX_VALUE ? l.total() : Math.max(lo, firstAtOrAfter(l, endTime));
        long from = cursor != null ? Math.clamp(cursor.position(), lo, hi) : forward ? lo : hi;
        List<StoredEvent> events = forward ? forward(l, from, hi, limit) : backward(l, lo, from, limit);
        long first = events.isEmpty() ? from : events.getFirst().position();
        long end = events.isEmpty() ? from : events.getLast().position() + 1;
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("events");
        for (StoredEvent e : events) {
            list.addObject().put("timestamp", e.timestamp().toEpochMilli()).put("message", e.message())
                    .put("ingestionTime", e.ingestionTime().toEpochMilli());
        }
        // At either end the token given comes back unchanged, as CloudWatch does.
        out.put("nextForwardToken", forward && events.isEmpty() && cursor != null ? token : PageTokens.encode(scope, "f/", new Cursor(end, 0, "")));
        out.put("nextBackwardToken", !forward && events.isEmpty() && cursor != null ? token
                : PageTokens.encode(scope, "b/", new Cursor(first, 0, "")));
        return out;
    }

    /** Events [from, to) from the start, within the event and size limits. */
    private List<StoredEvent> forward(Layout l, long from, long to, int limit) {
        List<StoredEvent> out = new ArrayList<>();
        long bytes = 0;
        for (int i = from < to ? l.chunkOf(from) : l.chunks().size(); i < l.chunks().size() && l.starts()[i] < to; i++) {
            for (StoredEvent e : logs.events(l.key(), l.chunks().get(i), l.starts()[i])) {
                if (e.position() < from) {
                    continue;
                }
                if (e.position() >= to || out.size() == limit || bytes + e.size() > MAX_RESPONSE_BYTES) {
                    return out;
                }
                out.add(e);
                bytes += e.size();
            }
        }
        return out;
    }

    /** The last events of [from, to), in ascending order, within the event and size limits. */
    private List<StoredEvent> backward(Layout l, long from, long to, int limit) {
        List<StoredEvent> out = new ArrayList<>();
        long bytes = 0;
        for (int i = from < to ? l.chunkOf(to - 1) : -1; i >= 0 && l.starts()[i] + l.chunks().get(i).eventCount() > from; i--) {
            List<StoredEvent> chunk = logs.events(l.key(), l.chunks().get(i), l.starts()[i]);
            for (int j = chunk.size() - 1; j >= 0; j--) {
                StoredEvent e = chunk.get(j);
                if (e.position() >= to) {
                    continue;
                }
                if (e.position() < from || out.size() == limit || bytes + e.size() > MAX_RESPONSE_BYTES) {
                    return out.reversed();
                }
                out.add(e);
                bytes += e.size();
            }
        }
        return out.reversed();
    }

    // ---- FilterLogEvents ----

    /** One stream's place in the merge: the next chunk to open, or the next event of the open one. */
    private final class Source {
        final Layout layout;
        final String name;
        int chunk;
        List<StoredEvent> open;
        int index;

        Source(Layout layout) {
            this.layout = layout;
            this.name = layout.key().stream();
        }

        long timestamp() {
            return open != null ? open.get(index).timestamp().toEpochMilli() : layout.chunks().get(chunk).firstEventAt().toEpochMilli();
        }

        long position() {
            return open != null ? open.get(index).position() : layout.starts()[chunk];
        }

        /** Moves past the current event or chunk; false when the stream is done. */
        boolean advance() {
            if (open != null && ++index < open.size()) {
                return true;
            }
            if (open != null) {
                chunk++;
            }
            open = null;
            index = 0;
            return chunk < layout.chunks().size();
        }

        void load() {
            open = logs.events(layout.key(), layout.chunks().get(chunk), layout.starts()[chunk]);
        }
    }

    private static final Comparator<Source> MERGE = Comparator.comparingLong(Source::timestamp)
            .thenComparing((a, b) -> compareBytes(a.name, b.name)).thenComparingLong(Source::position);

    JsonNode filterLogEvents(RequestContext ctx, ObjectNode in) {
        GroupRef g = group(ctx, in);
        JsonNode names = in.path("logStreamNames");
        String prefix = in.path("logStreamNamePrefix").asText("");
        if (!names.isMissingNode() && !names.isNull() && !prefix.isEmpty()) {
            throw new AwsException(INVALID, 400, "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
        }
        List<String> wanted = new ArrayList<>();
        if (!names.isMissingNode() && !names.isNull()) {
            if (!names.isArray() || names.isEmpty() || names.size() > 100) {
                throw new AwsException(INVALID, 400, "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: "
                        + "Member must have length between 1 and 100");
            }
            for (JsonNode n : names) {
                ObjectNode one = JsonNodeFactory.instance.objectNode().put("logStreamName", n.asText(""));
                wanted.add(streamName(one));
            }
        }
        long startTime = time(in, "startTime", Long.MIN_VALUE);
        long endTime = time(in, "endTime", Long.MAX_VALUE);
        String patternText = in.path("filterPattern").asText("");
        FilterPattern pattern = FilterPattern.parse(patternText);
        int limit = limit(in, MAX_EVENTS, MAX_EVENTS);
        String scope = scope("FilterLogEvents", g.account(), g.region(), g.name(), String.join("\u0001", wanted), prefix,
                Long.toString(startTime), Long.toString(endTime), patternText);
        String token = in.path("nextToken").asText("");
        Cursor after = token.isEmpty() ? null : PageTokens.decode(scope, "", token);
        requireGroup(g);

        PriorityQueue<Source> queue = new PriorityQueue<>(MERGE);
        for (Stream s : logs.streams(g.account(), g.region(), g.name())) {
            String name = s.key().stream();
            if (!name.startsWith(prefix) || (!wanted.isEmpty() && !wanted.contains(name))) {
                continue;
            }
            Source src = new Source(Layout.of(s.key(), logs.chunks(s.key())));
            long skipBefore = Math.max(startTime, after == null ? Long.MIN_VALUE : after.timestamp());
            while (src.chunk < src.layout.chunks().size() && src.layout.chunks().get(src.chunk).lastEventAt().toEpochMilli() < skipBefore) {
                src.chunk++;
            }
            if (src.chunk < src.layout.chunks().size()) {
                queue.add(src);
            }
        }
        String streamSalt = g.account() + ":" + g.region() + ":" + g.name();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("events");
        long bytes = 0;
        int found = 0;
        int examined = 0;
        Cursor last = after;
        while (!queue.isEmpty()) {
            Source src = queue.poll();
            if (src.open == null) {
                if (src.timestamp() >= endTime) {
                    continue;
                }
                src.load();
                queue.add(src);
                continue;
            }
            StoredEvent e = src.open.get(src.index);
            long at = e.timestamp().toEpochMilli();
            if (at >= endTime) {
                continue;
            }
            boolean skip = at < startTime || (after != null && compare(at, src.name, e.position(), after) <= 0);
            if (!skip) {
                if (found == limit || examined == SCAN_BUDGET || (pattern.matches(e.message()) && bytes + e.size() > MAX_RESPONSE_BYTES)) {
                    queue.add(src);
                    break;
                }
                examined++;
                if (pattern.matches(e.message())) {
                    list.addObject().put("logStreamName", src.name).put("timestamp", at).put("message", e.message())
                            .put("ingestionTime", e.ingestionTime().toEpochMilli()).put("eventId", eventId(streamSalt, src.name, at, e.position()));
                    bytes += e.size();
                    found++;
                }
                last = new Cursor(e.position(), at, src.name);
            }
            if (src.advance()) {
                queue.add(src);
            }
        }
        if (!queue.isEmpty() && last != null) {
            out.put("nextToken", PageTokens.encode(scope, "", last));
        }
        return out;
    }

    /** Orders an event against a cursor: by timestamp, then stream name (bytes), then position. */
    private static int compare(long at, String stream, long position, Cursor c) {
        int byTime = Long.compare(at, c.timestamp());
        if (byTime != 0) {
            return byTime;
        }
        int byName = compareBytes(stream, c.name());
        return byName != 0 ? byName : Long.compare(position, c.position());
    }

    /** A 56-digit event id, as CloudWatch's look: the timestamp, the position and a digest of the stream. */
    static String eventId(String groupKey, String stream, long timestamp, long position) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((groupKey + ":" + stream).getBytes(StandardCharsets.UTF_8));
            long h = java.nio.ByteBuffer.wrap(d).getLong() & Long.MAX_VALUE;
            return String.format("%020d%016d%020d", Math.max(0, timestamp), position, h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Byte (UTF-8, unsigned) order, as the store orders names. */
    static int compareBytes(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
