package dev.citadel.services.cloudtrail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.DeliveryRepository;
import dev.citadel.metadata.cloudtrail.DeliveryRepository.ChainHead;
import dev.citadel.metadata.cloudtrail.DeliveryRepository.LogFile;
import dev.citadel.metadata.cloudtrail.DeliveryRepository.State;
import dev.citadel.metadata.cloudtrail.SigningKeyRepository.SigningKey;
import dev.citadel.metadata.cloudtrail.TrailRepository;
import dev.citadel.metadata.cloudtrail.TrailRepository.Trail;
import dev.citadel.services.s3.S3Service;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers each trail's events to its bucket in CloudTrail's layout and, for trails with log file
 * validation, signs hourly (configurable) digest files that chain them, so that
 * {@code aws cloudtrail validate-logs} can prove nothing was changed or removed.
 *
 * <p>Log files: every delivery interval, each trail reads the audit log from its own offset, keeps
 * the events its account, region, logging window and event selectors select, and writes them per
 * source region as one gzip file {@code {"Records":[...]}} (the audit log's lines, byte for byte)
 * under {@code [prefix/]AWSLogs/<account>/CloudTrail/<region>/Y/M/D/}. The files and the new offset
 * are committed together after the files are stored, so a crash re-delivers (at least once, as
 * AWS) and never skips. A delivery the bucket refuses (its policy, a missing bucket, a KMS key) is
 * retried on the next interval and reported by GetTrailStatus.
 *
 * <p>Digests: at the end of each digest interval, per trail and source region, one digest file
 * lists the log files delivered in the interval with the SHA-256 of their uncompressed content,
 * names the previous digest (its key, hash and signature), and is signed SHA256withRSA over
 * CloudTrail's string ({@code endTime\nbucket/key\nhex(sha256(digest))\nprevious signature|null})
 * with the region's key (ListPublicKeys); the hex signature goes in {@code x-amz-meta-signature}.
 * Stopping logging or turning validation off breaks the chain; the next digest starts a new one.
 *
 * <p>Deliveries are the service principal {@code cloudtrail.amazonaws.com} writing on its own
 * behalf: only the bucket policy can allow them (and the trail's KMS key policy, when it has one).
 */
public final class TrailDelivery implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrailDelivery.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmm'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DIGEST_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final String ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /** The audit log is read this much at a time; the files of one read are committed with its offset. */
    private static final int CHUNK = 4 << 20;
    /** Global services: left out of trails that do not include global service events. */
    private static final Set<String> GLOBAL_SOURCES = Set.of("iam.amazonaws.com", "sts.amazonaws.com", "organizations.amazonaws.com");
    public static final String SIGNATURE_ALGORITHM = "SHA256withRSA";

    private final MetadataStore store;
    private final Path auditLog;
    private final S3Service s3;
    private final DigestSigningKeys signingKeys;
    private final Clock clock;
    private final SecureRandom random;
    private final String operatorTrailArn;
    private final Duration deliveryInterval;
    private final Duration digestInterval;
    private final Observer observer;
    private ScheduledExecutorService scheduler;
    private Instant nextLogDelivery = Instant.MIN;

    /** What delivery tells the operator's metrics. Called on the delivery thread; must be cheap and must not throw. */
    public interface Observer {
        /** A log file was stored in a trail's bucket; {@code lag} is how long before that its oldest event happened. */
        void delivered(Duration lag);

        /** A delivery round, or one trail's delivery in it, failed; it is retried on the next interval. */
        void failed();

        Observer NONE = new Observer() {
            @Override
            public void delivered(Duration lag) {
            }

            @Override
            public void failed() {
            }
        };
    }

    /**
     * @param operatorTrailArn the operator trail (it receives every account's events), or "" when there is none
     */
    public TrailDelivery(MetadataStore store, Path auditLog, S3Service s3, DigestSigningKeys signingKeys, Clock clock, SecureRandom random,
            String operatorTrailArn, Duration deliveryInterval, Duration digestInterval) {
        this(store, auditLog, s3, signingKeys, clock, random, operatorTrailArn, deliveryInterval, digestInterval, Observer.NONE);
    }

    /** @param observer told of every log file delivered (with its lag) and every failed delivery */
    public TrailDelivery(MetadataStore store, Path auditLog, S3Service s3, DigestSigningKeys signingKeys, Clock clock, SecureRandom random,
            String operatorTrailArn, Duration deliveryInterval, Duration digestInterval, Observer observer) {
        this.observer = java.util.Objects.requireNonNull(observer, "observer is null");
        this.store = store;
        this.auditLog = auditLog;
        this.s3 = s3;
        this.signingKeys = signingKeys;
        this.clock = clock;
        this.random = random;
        this.operatorTrailArn = operatorTrailArn;
        this.deliveryInterval = deliveryInterval;
        this.digestInterval = digestInterval;
    }

    /** Runs delivery in the background: log files every delivery interval, digests as each digest interval ends. */
    public synchronized void start() {
        if (scheduler != null) {
            return;
        }
        long period = Math.max(200, Math.min(Math.min(deliveryInterval.toMillis(), digestInterval.toMillis()) / 4, 15_000));
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cloudtrail-delivery");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            Instant now = clock.instant();
            if (!now.isBefore(nextLogDelivery)) {
                deliverLogs();
                nextLogDelivery = now.plus(deliveryInterval);
            }
            deliverDigests();
        } catch (RuntimeException e) {
            observer.failed();
            LOG.warn("CloudTrail delivery failed; it is retried on the next interval", e);
        }
    }

    /**
     * How many bytes of the audit log the trail furthest behind has yet to read: 0 when every
     * logging trail has delivered all that was recorded (or there is no trail). Reads the trails'
     * offsets from the store.
     */
    public long undeliveredBytes() {
        long size;
        try {
            size = java.nio.file.Files.size(auditLog);
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the audit log's size", e);
        }
        long behind = 0;
        for (Trail t : store.read(h -> new TrailRepository(h).all())) {
            if (t.startedAt().isPresent()) {
                long offset = store.read(h -> new DeliveryRepository(h).state(t.arn())).map(State::logOffset).orElse(0L);
                behind = Math.max(behind, offset > size ? size : size - offset);
            }
        }
        return behind;
    }

    /** The end of the last complete digest interval at {@code now}. */
    Instant boundary(Instant now) {
        long ms = digestInterval.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), ms) * ms);
    }

    // ---- log files ----

    /** Delivers, for every trail that ever logged, the events the audit log holds beyond its offset. */
    public synchronized void deliverLogs() {
        for (Trail t : store.read(h -> new TrailRepository(h).all())) {
            if (t.startedAt().isPresent()) {
                deliverLogs(t);
            }
        }
    }

    private void deliverLogs(Trail t) {
        State state = store.read(h -> new DeliveryRepository(h).state(t.arn())).orElse(State.fresh(t.arn()));
        long offset = state.logOffset();
        Selection selection = Selection.of(t, t.arn().equals(operatorTrailArn));
        Instant attempt = clock.instant();
        try (FileChannel in = FileChannel.open(auditLog, StandardOpenOption.READ)) {
            if (in.size() < offset) {
                offset = 0; // the log was replaced; the event ids keep duplicates recognisable
            }
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            boolean delivered = false;
            while (offset < in.size()) {
                buffer.clear();
                int n = in.read(buffer, offset);
                int end = lastNewline(buffer, n);
                if (end < 0) {
                    break;
                }
                Map<String, Batch> byRegion = new TreeMap<>();
                for (String line : new String(buffer.array(), 0, end + 1, StandardCharsets.UTF_8).split("\n")) {
                    selection.select(line).ifPresent(e -> byRegion.computeIfAbsent(e.region(), r -> new Batch()).add(line, e.time()));
                }
                List<LogFile> files = new ArrayList<>();
                Instant now = clock.instant();
                for (Map.Entry<String, Batch> b : byRegion.entrySet()) {
                    files.add(writeLogFile(t, b.getKey(), b.getValue(), now));
                    observer.delivered(Duration.between(b.getValue().oldest, clock.instant()));
                }
                long next = offset + end + 1;
                State done = new State(t.arn(), next, files.isEmpty() ? state.latestDelivery() : Optional.of(now), Optional.of(attempt), "",
                        state.latestDigest(), state.latestDigestError());
                store.useTransaction(h -> {
                    DeliveryRepository repo = new DeliveryRepository(h);
                    if (t.logFileValidation()) {
                        files.forEach(repo::addLogFile);
                    }
                    repo.save(done);
                });
                state = done;
                delivered |= !files.isEmpty();
                offset = next;
            }
            if (!delivered && !state.latestError().isEmpty()) {
                State cleared = new State(t.arn(), offset, state.latestDelivery(), Optional.of(attempt), "", state.latestDigest(),
                        state.latestDigestError());
                store.useTransaction(h -> new DeliveryRepository(h).save(cleared));
            }
        } catch (NoSuchFileException e) {
            // no request was recorded yet
        } catch (AwsException e) {
            observer.failed();
            State failed = new State(t.arn(), offset, state.latestDelivery(), Optional.of(attempt), e.code(), state.latestDigest(),
                    state.latestDigestError());
            store.useTransaction(h -> new DeliveryRepository(h).save(failed));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the audit log", e);
        }
    }

    private static int lastNewline(ByteBuffer buffer, int n) {
        for (int i = n - 1; i >= 0; i--) {
            if (buffer.get(i) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Events of one source region, in log order, for one file. */
    private static final class Batch {
        final ByteArrayOutputStream json = new ByteArrayOutputStream();
        Instant oldest;
        Instant newest;

        void add(String line, Instant time) {
            json.writeBytes((json.size() == 0 ? "{\"Records\":[" : ",").getBytes(StandardCharsets.UTF_8));
            json.writeBytes(line.getBytes(StandardCharsets.UTF_8));
            oldest = oldest == null || time.isBefore(oldest) ? time : oldest;
            newest = newest == null || time.isAfter(newest) ? time : newest;
        }

        byte[] content() {
            json.writeBytes("]}".getBytes(StandardCharsets.UTF_8));
            return json.toByteArray();
        }
    }

    private LogFile writeLogFile(Trail t, String region, Batch batch, Instant now) {
        byte[] content = batch.content();
        String account = t.accountId();
        StringBuilder unique = new StringBuilder(16);
        for (int i = 0; i < 16; i++) {
            unique.append(ALPHANUMERIC.charAt(random.nextInt(ALPHANUMERIC.length())));
        }
        String key = prefix(t) + "AWSLogs/" + account + "/CloudTrail/" + region + "/" + DAY.format(now) + "/" + account + "_CloudTrail_" + region
                + "_" + LOG_TIME.format(now) + "_" + unique + ".json.gz";
        s3.putAsService(CloudTrailService.SERVICE_PRINCIPAL, deliveryContext(t), t.s3Bucket(), key, gzip(content), "application/json", Map.of(),
                t.accountId(), t.kmsKeyId());
        return new LogFile(t.arn(), region, t.s3Bucket(), key, sha256Hex(content), batch.oldest, batch.newest, now);
    }

    private static String prefix(Trail t) {
        return t.s3KeyPrefix().isEmpty() ? "" : t.s3KeyPrefix() + "/";
    }

    private static Map<String, List<String>> deliveryContext(Trail t) {
        return Map.of("aws:SourceArn", List.of(t.arn()), "aws:SourceAccount", List.of(t.accountId()), "s3:x-amz-acl",
                List.of("bucket-owner-full-control"), "aws:SecureTransport", List.of("true"));
    }

    // ---- which events a trail takes ----

    /** A selected event: its source region and time. */
    record Selected(String region, Instant time) {
    }

    /**
     * The few fields of an audit record that selection reads, taken with a streaming parse that
     * skips everything else (request parameters, identity, TLS details): delivery reads every new
     * line once per trail, so this is on the delivery thread's hot path.
     */
    record Fields(Instant time, String account, String region, String source, boolean management, boolean readOnly,
            List<String[]> resources) {
        private static final com.fasterxml.jackson.core.JsonFactory FACTORY = new com.fasterxml.jackson.core.JsonFactory();

        static Fields of(String line) throws IOException {
            String time = "";
            String account = "";
            String region = "";
            String source = "";
            boolean management = true;
            boolean readOnly = false;
            List<String[]> resources = new ArrayList<>();
            try (com.fasterxml.jackson.core.JsonParser p = FACTORY.createParser(line)) {
                if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                    throw new IOException("not an object");
                }
                while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    com.fasterxml.jackson.core.JsonToken value = p.nextToken();
                    if (value.isStructStart() && !name.equals("resources")) {
                        p.skipChildren();
                        continue;
                    }
                    switch (name) {
                        case "eventTime" -> time = p.getValueAsString("");
                        case "recipientAccountId" -> account = p.getValueAsString("");
                        case "awsRegion" -> region = p.getValueAsString("");
                        case "eventSource" -> source = p.getValueAsString("");
                        case "managementEvent" -> management = p.getValueAsBoolean(true);
                        case "readOnly" -> readOnly = p.getValueAsBoolean(false);
                        case "resources" -> {
                            if (value == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                                while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                                    String type = "";
                                    String arn = "";
                                    while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                                        String field = p.currentName();
                                        p.nextToken();
                                        if (field.equals("type")) {
                                            type = p.getValueAsString("");
                                        } else if (field.equals("ARN")) {
                                            arn = p.getValueAsString("");
                                        } else {
                                            p.skipChildren();
                                        }
                                    }
                                    resources.add(new String[] {type, arn});
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                        default -> p.skipChildren();
                    }
                }
            }
            return new Fields(Instant.parse(time), account, region, source, management, readOnly, resources);
        }
    }

    /** A trail's choice of events: its account (all accounts for the operator trail), regions, logging window and event selectors. */
    record Selection(Trail trail, boolean allAccounts, JsonNode selectors) {
        static Selection of(Trail t, boolean operator) {
            try {
                return new Selection(t, operator, JSON.readTree(t.eventSelectors()));
            } catch (IOException e) {
                throw new IllegalStateException("stored event selectors are not JSON", e);
            }
        }

        Optional<Selected> select(String line) {
            if (line.isBlank()) {
                return Optional.empty();
            }
            Fields e;
            try {
                e = Fields.of(line);
            } catch (IOException | java.time.format.DateTimeParseException malformed) {
                return Optional.empty();
            }
            if (!allAccounts && !e.account().equals(trail.accountId())) {
                return Optional.empty();
            }
            if (e.region().isEmpty() || !trail.multiRegion() && !e.region().equals(trail.homeRegion())) {
                return Optional.empty();
            }
            if (!trail.includeGlobalEvents() && GLOBAL_SOURCES.contains(e.source())) {
                return Optional.empty();
            }
            // Event times have one-second resolution and are taken as a request arrives: the StartLogging
            // call's own event may carry the second before the start was recorded.
            Instant started = trail.startedAt().orElseThrow().truncatedTo(ChronoUnit.SECONDS).minusSeconds(1);
            if (e.time().isBefore(started) || !trail.logging() && trail.stoppedAt().map(e.time()::isAfter).orElse(false)) {
                return Optional.empty();
            }
            return selected(e) ? Optional.of(new Selected(e.region(), e.time())) : Optional.empty();
        }

        private boolean selected(Fields e) {
            for (JsonNode s : selectors) {
                String rw = s.path("ReadWriteType").asText("All");
                if (rw.equals("ReadOnly") && !e.readOnly() || rw.equals("WriteOnly") && e.readOnly()) {
                    continue;
                }
                if (e.management()) {
                    boolean excluded = false;
                    for (JsonNode x : s.path("ExcludeManagementEventSources")) {
                        excluded |= x.asText("").equals(e.source());
                    }
                    if (s.path("IncludeManagementEvents").asBoolean(true) && !excluded) {
                        return true;
                    }
                    continue;
                }
                for (JsonNode r : s.path("DataResources")) {
                    String type = r.path("Type").asText("");
                    for (String[] resource : e.resources()) {
                        if (!resource[0].equals(type)) {
                            continue;
                        }
                        for (JsonNode v : r.path("Values")) {
                            if (matches(v.asText(""), resource[1])) {
                                return true;
                            }
                        }
                    }
                }
            }
            return false;
        }

        /** A data-resource value: a service-wide ARN prefix ({@code arn:aws:s3}), or an ARN prefix of the resources it selects. */
        private static boolean matches(String value, String arn) {
            if (value.equals("arn:aws:s3") || value.equals("arn:aws:sagemaker")) {
                return arn.startsWith(value + ":");
            }
            return !value.isEmpty() && arn.startsWith(value);
        }
    }

    // ---- digests ----

    /** Delivers the digests of every interval that has ended since each trail's last digest. */
    public synchronized void deliverDigests() {
        Instant end = boundary(clock.instant());
        for (Trail t : store.read(h -> new TrailRepository(h).all())) {
            if (!t.logFileValidation()) {
                if (!store.read(h -> new DeliveryRepository(h).chainRegions(t.arn())).isEmpty()) {
                    store.useTransaction(h -> new DeliveryRepository(h).breakChains(t.arn()));
                }
                continue;
            }
            if (t.startedAt().isEmpty()) {
                continue;
            }
            List<String> known = store.<List<String>>read(h -> {
                DeliveryRepository repo = new DeliveryRepository(h);
                List<String> all = new ArrayList<>(repo.pendingRegions(t.arn()));
                all.addAll(repo.chainRegions(t.arn()));
                return all;
            });
            Set<String> regions = new TreeSet<>(known);
            if (t.logging()) {
                regions.add(t.homeRegion());
            }
            for (String region : regions) {
                try {
                    deliverDigest(t, region, end);
                } catch (AwsException e) {
                    store.useTransaction(h -> {
                        DeliveryRepository repo = new DeliveryRepository(h);
                        State s = repo.state(t.arn()).orElse(State.fresh(t.arn()));
                        repo.save(new State(s.trailArn(), s.logOffset(), s.latestDelivery(), s.latestAttempt(), s.latestError(), s.latestDigest(),
                                e.code()));
                    });
                }
            }
        }
    }

    private void deliverDigest(Trail t, String region, Instant end) {
        Optional<ChainHead> stored = store.read(h -> new DeliveryRepository(h).chainHead(t.arn(), region));
        Instant started = t.startedAt().orElseThrow().truncatedTo(ChronoUnit.SECONDS);
        if (stored.isPresent() && !stored.get().endTime().isBefore(end)) {
            return; // this interval's digest is out already
        }
        // Logging stopped and started again since the last digest: a new chain.
        Optional<ChainHead> head = stored.filter(c -> !started.isAfter(c.endTime()));
        List<LogFile> files = store.read(h -> new DeliveryRepository(h).pendingLogFiles(t.arn(), region, end));
        if (!t.logging() && files.isEmpty()) {
            // Stopped and everything delivered is digested: the chain ends with the last digest.
            if (head.isPresent() && t.stoppedAt().map(s -> s.isBefore(head.get().endTime())).orElse(true)) {
                store.useTransaction(h -> new DeliveryRepository(h).breakChains(t.arn()));
            }
            return;
        }
        Instant start = head.map(ChainHead::endTime).orElse(started.isBefore(end.minus(digestInterval)) ? end.minus(digestInterval) : started);
        for (LogFile f : files) {
            start = f.deliveredAt().isBefore(start) ? f.deliveredAt().truncatedTo(ChronoUnit.SECONDS) : start;
        }
        if (!start.isBefore(end)) {
            return; // logging started after the last boundary: the first digest closes at the next one
        }
        SigningKey key = signingKeys.current(region);
        String account = t.accountId();
        String trailName = t.arn().substring(t.arn().lastIndexOf('/') + 1);
        String digestKey = prefix(t) + "AWSLogs/" + account + "/CloudTrail-Digest/" + region + "/" + DAY.format(end) + "/" + account
                + "_CloudTrail-Digest_" + region + "_" + trailName + "_" + t.homeRegion() + "_" + DIGEST_TIME.format(end) + ".json.gz";

        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("awsAccountId", account);
        d.put("digestStartTime", start.toString());
        d.put("digestEndTime", end.toString());
        d.put("digestS3Bucket", t.s3Bucket());
        d.put("digestS3Object", digestKey);
        d.put("digestPublicKeyFingerprint", key.fingerprint());
        d.put("digestSignatureAlgorithm", SIGNATURE_ALGORITHM);
        Instant newest = files.stream().map(LogFile::newestEvent).max(Instant::compareTo).orElse(null);
        Instant oldest = files.stream().map(LogFile::oldestEvent).min(Instant::compareTo).orElse(null);
        d.put("newestEventTime", newest == null ? null : newest.toString());
        d.put("oldestEventTime", oldest == null ? null : oldest.toString());
        d.put("previousDigestS3Bucket", head.map(ChainHead::bucket).orElse(null));
        d.put("previousDigestS3Object", head.map(ChainHead::key).orElse(null));
        d.put("previousDigestHashValue", head.map(ChainHead::hash).orElse(null));
        d.put("previousDigestHashAlgorithm", head.isPresent() ? "SHA-256" : null);
        d.put("previousDigestSignature", head.map(ChainHead::signature).orElse(null));
        ArrayNode logFiles = d.putArray("logFiles");
        for (LogFile f : files) {
            logFiles.addObject().put("s3Bucket", f.bucket()).put("s3Object", f.key()).put("hashValue", f.hash()).put("hashAlgorithm", "SHA-256")
                    .put("newestEventTime", f.newestEvent().toString()).put("oldestEventTime", f.oldestEvent().toString());
        }
        byte[] content = d.toString().getBytes(StandardCharsets.UTF_8);
        String hash = sha256Hex(content);
        String signature = HexFormat.of().formatHex(signingKeys.sign(key, stringToSign(end.toString(), t.s3Bucket(), digestKey, hash,
                head.map(ChainHead::signature).orElse(null))));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("signature", signature);
        metadata.put("signature-algorithm", SIGNATURE_ALGORITHM);
        s3.putAsService(CloudTrailService.SERVICE_PRINCIPAL, deliveryContext(t), t.s3Bucket(), digestKey, gzip(content), "application/json",
                metadata, t.accountId(), t.kmsKeyId());
        Instant now = clock.instant();
        ChainHead next = new ChainHead(t.arn(), region, t.s3Bucket(), digestKey, end, hash, signature);
        store.useTransaction(h -> {
            DeliveryRepository repo = new DeliveryRepository(h);
            repo.removeLogFiles(files);
            repo.setChainHead(next);
            State s = repo.state(t.arn()).orElse(State.fresh(t.arn()));
            repo.save(new State(s.trailArn(), s.logOffset(), s.latestDelivery(), s.latestAttempt(), s.latestError(), Optional.of(now), ""));
        });
    }

    /** CloudTrail's data to sign: end time, bucket/key, hex SHA-256 of the uncompressed digest, the previous signature or "null". */
    public static byte[] stringToSign(String endTime, String bucket, String key, String hashHex, String previousSignature) {
        return (endTime + "\n" + bucket + "/" + key + "\n" + hashHex + "\n" + (previousSignature == null ? "null" : previousSignature))
                .getBytes(StandardCharsets.UTF_8);
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static String sha256Hex(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        ScheduledExecutorService scheduler;
        synchronized (this) {
            scheduler = this.scheduler;
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
