package dev.citadel.services.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.logs.LogRepository.StreamKey;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.services.TestSupport;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.logs.JobLogs.Event;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JobLogs (cap, splitting, sealing bound to the stream) and the Logs subset's reads and pagination. */
class LogsServiceTest {
    static final String GROUP = "/aws/sagemaker/TrainingJobs";
    static final Instant T = Instant.parse("2026-11-29T10:00:00Z");

    @TempDir
    Path dir;
    private MetadataStore store;
    private TestSupport.MovableClock clock;
    private JobLogs logs;
    private LogsService service;
    private RequestContext ctx;
    private String account;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        clock = new TestSupport.MovableClock();
        TestSupport.MarkingSealer sealer = new TestSupport.MarkingSealer();
        AccountDirectory directory = new AccountDirectory(store, sealer, new SecureRandom(), clock);
        Principal admin = directory.resolveAccessKey(directory.createOrganization("ops@example.com", "admin").accessKeyId()).orElseThrow()
                .principal();
        account = admin.account().value();
        logs = new JobLogs(store, sealer, clock, 64 * 1024);
        service = new LogsService(logs);
        ctx = new RequestContext("r", clock.now, "us-east-1", LogsService.DEFINITION, service.operations().getFirst().spec(), admin,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""), "test");
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private void stream(String name, int events, int fromSecond) {
        logs.createStream(account, "us-east-1", GROUP, name);
        List<Event> batch = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            batch.add(new Event(T.plusSeconds(fromSecond + i), name + " line " + i + (i % 3 == 0 ? " ERROR" : " INFO")));
        }
        logs.append(account, "us-east-1", GROUP, name, batch);
    }

    private static ObjectNode input(String... kv) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        for (int i = 0; i < kv.length; i += 2) {
            n.put(kv[i], kv[i + 1]);
        }
        return n;
    }

    private static List<String> messages(JsonNode out) {
        List<String> m = new ArrayList<>();
        out.path("events").forEach(e -> m.add(e.path("message").asText()));
        return m;
    }

    private static void refusedWith(String code, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo(code));
    }

    @Test
    void aStreamIsCappedWithOneFinalEventAndLaterOutputDropped() {
        logs.createStream(account, "us-east-1", GROUP, "capped");
        String line = "x".repeat(1000 - JobLogs.EVENT_OVERHEAD);
        List<Event> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(new Event(T.plusSeconds(i), line));
        }
        logs.append(account, "us-east-1", GROUP, "capped", batch);
        logs.append(account, "us-east-1", GROUP, "capped", List.of(new Event(T.plusSeconds(500), "after the cap")));
        List<String> all = messages(service.getLogEvents(ctx, input("logGroupName", GROUP, "logStreamName", "capped", "startFromHead", "true")));
        assertThat(all).hasSize(66);
        assertThat(all.subList(0, 65)).allMatch(line::equals);
        assertThat(all.getLast()).contains("reached its cap of 65536 bytes");
        assertThat(logs.stream(new StreamKey(account, "us-east-1", GROUP, "capped")).orElseThrow().truncated()).isTrue();
    }

    @Test
    void concurrentAppendsLoseNothingAndKeepEachStreamsOrder() throws Exception {
        for (String s : List.of("p", "q")) {
            logs.createStream(account, "us-east-1", GROUP, s);
        }
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            String s = t % 2 == 0 ? "p" : "q";
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 20; i++) {
                    logs.append(account, "us-east-1", GROUP, s, List.of(new Event(T.plusMillis(i), "t" + id + " " + i)));
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        for (String s : List.of("p", "q")) {
            List<String> all = messages(service.getLogEvents(ctx, input("logGroupName", GROUP, "logStreamName", s, "startFromHead", "true")));
            assertThat(all).hasSize(40).doesNotHaveDuplicates();
            assertThat(logs.stream(new StreamKey(account, "us-east-1", GROUP, s)).orElseThrow().nextSequence()).isEqualTo(40);
        }
    }

    @Test
    void aLongMessageIsSplitAtCloudWatchsEventSizeWithoutBreakingCharacters() {
        String big = "é".repeat(JobLogs.MAX_MESSAGE_BYTES / 2) + "tail";
        List<String> pieces = JobLogs.split(big);
        assertThat(pieces).hasSize(2);
        assertThat(String.join("", pieces)).isEqualTo(big);
        assertThat(pieces).allMatch(p -> JobLogs.utf8Length(p) <= JobLogs.MAX_MESSAGE_BYTES);
        assertThat(JobLogs.split("short")).containsExactly("short");
    }

    @Test
    void aChunkMovedToAnotherStreamDoesNotOpen() {
        stream("a", 3, 0);
        stream("b", 3, 0);
        store.useTransaction(h -> h.createUpdate("UPDATE logs_chunks SET payload = (SELECT payload FROM logs_chunks WHERE stream = 'a') "
                + "WHERE stream = 'b'").execute());
        assertThat(messages(service.getLogEvents(ctx, input("logGroupName", GROUP, "logStreamName", "a")))).hasSize(3);
        assertThatThrownBy(() -> service.getLogEvents(ctx, input("logGroupName", GROUP, "logStreamName", "b")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void olderTimestampsTakeTheStreamsLastOne() {
        logs.createStream(account, "us-east-1", GROUP, "s");
        logs.append(account, "us-east-1", GROUP, "s", List.of(new Event(T.plusSeconds(10), "one"), new Event(T, "two")));
        JsonNode out = service.getLogEvents(ctx, input("logGroupName", GROUP, "logStreamName", "s"));
        assertThat(out.path("events").get(1).path("timestamp").asLong()).isEqualTo(T.plusSeconds(10).toEpochMilli());
    }

    @Test
    void getLogEventsPagesForwardAndBackwardWithCloudWatchsTokens() {
        stream("job", 25, 0);
        ObjectNode in = input("logGroupName", GROUP, "logStreamName", "job", "startFromHead", "true");
        in.put("limit", 10);
        List<String> forward = new ArrayList<>();
        String token = null;
        for (int page = 0; page < 10; page++) {
            JsonNode out = service.getLogEvents(ctx, in);
            forward.addAll(messages(out));
            String next = out.path("nextForwardToken").asText();
            assertThat(next).startsWith("f/");
            if (next.equals(token)) {
                break;
            }
            token = next;
            in.put("nextToken", token);
        }
        assertThat(forward).hasSize(25).first().isEqualTo("job line 0 ERROR");
        assertThat(forward.getLast()).isEqualTo("job line 24 ERROR");

        ObjectNode back = input("logGroupName", GROUP, "logStreamName", "job");
        back.put("limit", 10);
        JsonNode latest = service.getLogEvents(ctx, back);
        assertThat(messages(latest)).hasSize(10).first().isEqualTo("job line 15 ERROR");
        back.put("nextToken", latest.path("nextBackwardToken").asText());
        JsonNode before = service.getLogEvents(ctx, back);
        assertThat(messages(before)).hasSize(10).first().isEqualTo("job line 5 INFO");
        back.put("nextToken", before.path("nextBackwardToken").asText());
        JsonNode first = service.getLogEvents(ctx, back);
        assertThat(messages(first)).hasSize(5).first().isEqualTo("job line 0 ERROR");
        back.put("nextToken", first.path("nextBackwardToken").asText());
        JsonNode none = service.getLogEvents(ctx, back);
        assertThat(messages(none)).isEmpty();
        assertThat(none.path("nextBackwardToken").asText()).as("at the head the same token comes back")
                .isEqualTo(first.path("nextBackwardToken").asText());
        back.put("nextToken", before.path("nextForwardToken").asText());
        assertThat(messages(service.getLogEvents(ctx, back))).first().isEqualTo("job line 15 ERROR");
    }

    @Test
    void getLogEventsKeepsToTheTimeRange() {
        stream("job", 20, 0);
        ObjectNode in = input("logGroupName", GROUP, "logStreamName", "job", "startFromHead", "true");
        in.put("startTime", T.plusSeconds(5).toEpochMilli()).put("endTime", T.plusSeconds(8).toEpochMilli());
        assertThat(messages(service.getLogEvents(ctx, in))).containsExactly("job line 5 INFO", "job line 6 ERROR", "job line 7 INFO");
    }

    @Test
    void filterLogEventsMergesStreamsByTimeAndPagesWithTheFilter() {
        stream("b", 30, 0);
        stream("a", 30, 0);
        ObjectNode in = input("logGroupName", GROUP, "filterPattern", "ERROR -\"line 3 \"");
        in.put("limit", 7);
        List<String> found = new ArrayList<>();
        for (int page = 0; page < 10; page++) {
            JsonNode out = service.filterLogEvents(ctx, in);
            out.path("events").forEach(e -> {
                found.add(e.path("logStreamName").asText() + ":" + e.path("message").asText());
                assertThat(e.path("eventId").asText()).matches("\\d{56}");
            });
            if (!out.has("nextToken")) {
                break;
            }
            in.put("nextToken", out.path("nextToken").asText());
        }
        assertThat(found).hasSize(18).startsWith("a:a line 0 ERROR", "b:b line 0 ERROR", "a:a line 6 ERROR", "b:b line 6 ERROR");
        assertThat(found).noneMatch(m -> m.contains("line 3 "));
        ObjectNode only = input("logGroupName", GROUP, "logStreamNamePrefix", "b", "filterPattern", "\"line 29\"");
        assertThat(messages(service.filterLogEvents(ctx, only))).containsExactly("b line 29 INFO");
    }

    @Test
    void describeLogStreamsOrdersAndPages() {
        stream("job-b/algo-1-1", 1, 50);
        stream("job-a/algo-1-1", 1, 10);
        stream("job-c/algo-1-1", 1, 30);
        ObjectNode in = input("logGroupName", GROUP, "orderBy", "LastEventTime");
        in.put("descending", true).put("limit", 2);
        JsonNode first = service.describeLogStreams(ctx, in);
        assertThat(first.path("logStreams").findValuesAsText("logStreamName")).containsExactly("job-b/algo-1-1", "job-c/algo-1-1");
        in.put("nextToken", first.path("nextToken").asText());
        JsonNode second = service.describeLogStreams(ctx, in);
        assertThat(second.path("logStreams").findValuesAsText("logStreamName")).containsExactly("job-a/algo-1-1");
        assertThat(second.has("nextToken")).isFalse();
        JsonNode s = second.path("logStreams").get(0);
        assertThat(s.path("arn").asText()).isEqualTo("arn:aws:logs:us-east-1:" + account + ":log-group:" + GROUP + ":log-stream:job-a/algo-1-1");
        assertThat(s.path("lastEventTimestamp").asLong()).isEqualTo(T.plusSeconds(10).toEpochMilli());
        refusedWith("InvalidParameterException", () -> service.describeLogStreams(ctx,
                input("logGroupName", GROUP, "orderBy", "LastEventTime", "logStreamNamePrefix", "job")));
    }

    @Test
    void describeLogGroupsListsTheAccountsGroupsByPrefix() {
        stream("x", 1, 0);
        logs.createStream(account, "us-east-1", "/aws/sagemaker/ProcessingJobs", "p");
        JsonNode out = service.describeLogGroups(ctx, input("logGroupNamePrefix", "/aws/sagemaker/"));
        assertThat(out.path("logGroups").findValuesAsText("logGroupName")).containsExactly("/aws/sagemaker/ProcessingJobs", GROUP);
        assertThat(out.path("logGroups").get(1).path("arn").asText()).isEqualTo("arn:aws:logs:us-east-1:" + account + ":log-group:" + GROUP + ":*");
        assertThat(service.describeLogGroups(ctx, input("logGroupNamePrefix", "/other")).path("logGroups")).isEmpty();
    }

    @Test
    void missingGroupsAndStreamsAndBadTokensAreRefusedLikeCloudWatch() {
        stream("job", 2, 0);
        BiFunction<String, String, ObjectNode> get = (g, s) -> input("logGroupName", g, "logStreamName", s);
        refusedWith("ResourceNotFoundException", () -> service.getLogEvents(ctx, get.apply("/aws/sagemaker/Endpoints", "job")));
        refusedWith("ResourceNotFoundException", () -> service.getLogEvents(ctx, get.apply(GROUP, "other")));
        refusedWith("ResourceNotFoundException", () -> service.filterLogEvents(ctx, input("logGroupName", "/nothing")));
        for (String token : List.of("f/garbage", "b/", "zzz", "f/" + "A".repeat(40))) {
            ObjectNode in = get.apply(GROUP, "job");
            in.put("nextToken", token);
            refusedWith("InvalidParameterException", () -> service.getLogEvents(ctx, in));
            ObjectNode f = input("logGroupName", GROUP, "nextToken", token);
            refusedWith("InvalidParameterException", () -> service.filterLogEvents(ctx, f));
            ObjectNode d = input("logGroupName", GROUP, "nextToken", token);
            refusedWith("InvalidParameterException", () -> service.describeLogStreams(ctx, d));
            refusedWith("InvalidParameterException", () -> service.describeLogGroups(ctx, input("nextToken", token)));
        }
        ObjectNode other = get.apply(GROUP, "job");
        JsonNode out = service.getLogEvents(ctx, other);
        ObjectNode elsewhere = get.apply(GROUP, "job");
        elsewhere.put("logStreamName", "job2");
        logs.createStream(account, "us-east-1", GROUP, "job2");
        elsewhere.put("nextToken", out.path("nextForwardToken").asText());
        refusedWith("InvalidParameterException", () -> service.getLogEvents(ctx, elsewhere));
        refusedWith("InvalidParameterException", () -> service.filterLogEvents(ctx, input("logGroupName", GROUP, "filterPattern", "{ $.x = 1 }")));
    }

    @Test
    void theResourcesAreTheGroupAndStreamArns() {
        ObjectNode in = input("logGroupName", GROUP, "logStreamName", "job/algo-1-1");
        assertThat(service.operations().stream().map(o -> o.spec().name() + " " + o.spec().resources().resolve(ctx, in)).toList())
                .containsExactly(
                        "DescribeLogGroups [arn:aws:logs:us-east-1:" + account + ":log-group::log-stream:]",
                        "DescribeLogStreams [arn:aws:logs:us-east-1:" + account + ":log-group:" + GROUP + ":*]",
                        "GetLogEvents [arn:aws:logs:us-east-1:" + account + ":log-group:" + GROUP + ":log-stream:job/algo-1-1]",
                        "FilterLogEvents [arn:aws:logs:us-east-1:" + account + ":log-group:" + GROUP + ":*]");
        ObjectNode byArn = input("logGroupIdentifier", "arn:aws:logs:us-east-1:999999999999:log-group:" + GROUP, "logStreamName", "j");
        assertThat(LogsService.group(ctx, byArn).streamArn("j")).isEqualTo("arn:aws:logs:us-east-1:999999999999:log-group:" + GROUP
                + ":log-stream:j");
    }
}
