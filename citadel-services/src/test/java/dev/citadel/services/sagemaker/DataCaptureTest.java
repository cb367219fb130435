package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Data capture: SageMaker's record format and key layout, sampling, buffering per variant and hour, the memory bound, failed writes. */
class DataCaptureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T = Instant.parse("2026-12-01T09:05:07.089Z");
    private static final UUID ID = UUID.fromString("cee08c3a-02ce-4790-b8ba-3173cfc12813");

    /** An object the fake writer was given. */
    record Written(String variant, String key, String body) {
    }

    private final List<Written> written = Collections.synchronizedList(new ArrayList<>());

    private static CaptureConfig config(String json) throws Exception {
        return CaptureConfig.of(JSON.readTree("{\"DataCaptureConfig\":" + json + "}")).orElseThrow();
    }

    private static CaptureConfig both() throws Exception {
        return config("""
                {"InitialSamplingPercentage":100,"DestinationS3Uri":"s3://bucket/capture/","KmsKeyId":"alias/capture",
                 "CaptureOptions":[{"CaptureMode":"Input"},{"CaptureMode":"Output"}],
                 "CaptureContentTypeHeader":{"CsvContentTypes":["text/csv"],"JsonContentTypes":["application/json"]}}""");
    }

    private static DataCapture.Target target(String variant, CaptureConfig c) {
        return new DataCapture.Target("111122223333", "churn", variant, "arn:aws:iam::111122223333:role/R", c);
    }

    private static DataCapture.Exchange exchange(Instant at, String input) {
        return new DataCapture.Exchange("text/csv", input.getBytes(StandardCharsets.UTF_8), "text/csv; charset=utf-8",
                "1.0\n".getBytes(StandardCharsets.UTF_8), Optional.empty(), at);
    }

    private DataCapture capture(long maxBytes, Duration flush) {
        return new DataCapture((t, key, body) -> written.add(new Written(t.variant(), key, new String(body, StandardCharsets.UTF_8))),
                new DataCapture.Limits(flush, maxBytes), new Random(1));
    }

    @Test
    void aRecordHoldsBothSidesInSageMakersFormat() throws Exception {
        DataCapture.Exchange e = new DataCapture.Exchange("text/csv", "0.5,0.7\n".getBytes(StandardCharsets.UTF_8), "text/csv; charset=utf-8",
                "1.0\n".getBytes(StandardCharsets.UTF_8), Optional.of("call-17"), T);
        String line = new String(DataCapture.line(both(), e, ID), StandardCharsets.UTF_8);
        assertThat(line).isEqualTo("{\"captureData\":{"
                + "\"endpointInput\":{\"observedContentType\":\"text/csv\",\"mode\":\"INPUT\",\"data\":\"0.5,0.7\\n\",\"encoding\":\"CSV\"},"
                + "\"endpointOutput\":{\"observedContentType\":\"text/csv; charset=utf-8\",\"mode\":\"OUTPUT\",\"data\":\"1.0\\n\",\"encoding\":\"CSV\"}},"
                + "\"eventMetadata\":{\"eventId\":\"cee08c3a-02ce-4790-b8ba-3173cfc12813\",\"inferenceId\":\"call-17\","
                + "\"inferenceTime\":\"2026-12-01T09:05:07Z\"},\"eventVersion\":\"0\"}\n");
    }

    @Test
    void onlyTheListedModeIsRecordedAndNoInferenceIdWhenNoneWasGiven() throws Exception {
        CaptureConfig output = config("""
                {"InitialSamplingPercentage":50,"DestinationS3Uri":"s3://bucket","CaptureOptions":[{"CaptureMode":"Output"}],
                 "CaptureContentTypeHeader":{"JsonContentTypes":["application/json"]}}""");
        DataCapture.Exchange e = new DataCapture.Exchange("application/json", "{\"x\":1}".getBytes(StandardCharsets.UTF_8),
                "application/json", "{\"y\":[0]}".getBytes(StandardCharsets.UTF_8), Optional.empty(), T);
        JsonNode record = JSON.readTree(DataCapture.line(output, e, ID));
        assertThat(record.path("captureData").has("endpointInput")).isFalse();
        assertThat(record.path("captureData").path("endpointOutput").path("data").asText()).isEqualTo("{\"y\":[0]}");
        assertThat(record.path("captureData").path("endpointOutput").path("encoding").asText()).isEqualTo("JSON");
        assertThat(record.path("eventMetadata").has("inferenceId")).isFalse();
    }

    @Test
    void unlistedTypesAndBytesThatAreNotUtf8AreBase64() throws Exception {
        CaptureConfig noHeader = config("""
                {"InitialSamplingPercentage":100,"DestinationS3Uri":"s3://bucket/p","CaptureOptions":[{"CaptureMode":"InputAndOutput"}]}""");
        JsonNode record = JSON.readTree(DataCapture.line(noHeader, exchange(T, "1,2\n"), ID));
        assertThat(record.path("captureData").path("endpointInput").path("encoding").asText()).isEqualTo("BASE64");
        assertThat(record.path("captureData").path("endpointInput").path("data").asText()).isEqualTo("MSwyCg==");
        assertThat(record.path("captureData").path("endpointOutput").path("data").asText()).isEqualTo("MS4wCg==");

        DataCapture.Exchange notUtf8 = new DataCapture.Exchange("TEXT/CSV", new byte[] {(byte) 0xff, 0x31}, "text/csv", new byte[0],
                Optional.empty(), T);
        JsonNode binary = JSON.readTree(DataCapture.line(both(), notUtf8, ID));
        assertThat(binary.path("captureData").path("endpointInput").path("encoding").asText()).isEqualTo("BASE64");
        assertThat(binary.path("captureData").path("endpointInput").path("data").asText()).isEqualTo("/zE=");
        assertThat(binary.path("captureData").path("endpointOutput").path("encoding").asText()).as("empty text is text").isEqualTo("CSV");
    }

    @Test
    void keysFollowSageMakersLayout() throws Exception {
        assertThat(DataCapture.key(target("AllTraffic", both()), T, ID))
                .isEqualTo("capture/churn/AllTraffic/2026/12/01/09/05-07-089-cee08c3a-02ce-4790-b8ba-3173cfc12813.jsonl");
        CaptureConfig atRoot = config("""
                {"InitialSamplingPercentage":100,"DestinationS3Uri":"s3://bucket","CaptureOptions":[{"CaptureMode":"Input"}]}""");
        assertThat(DataCapture.key(target("A", atRoot), T, ID)).isEqualTo("churn/A/2026/12/01/09/05-07-089-" + ID + ".jsonl");
    }

    @Test
    void theConfigurationDefaultsToEnabledAndSummarizesAsDescribeEndpointDoes() throws Exception {
        CaptureConfig c = both();
        assertThat(c.enabled()).isTrue();
        assertThat(c.bucket()).isEqualTo("bucket");
        assertThat(c.prefix()).isEqualTo("capture");
        assertThat(c.summary(true).toString()).isEqualTo("{\"EnableCapture\":true,\"CaptureStatus\":\"Started\","
                + "\"CurrentSamplingPercentage\":100,\"DestinationS3Uri\":\"s3://bucket/capture/\",\"KmsKeyId\":\"alias/capture\"}");
        assertThat(c.summary(false).path("CaptureStatus").asText()).isEqualTo("Stopped");
        CaptureConfig off = config("""
                {"EnableCapture":false,"InitialSamplingPercentage":100,"DestinationS3Uri":"s3://b","CaptureOptions":[{"CaptureMode":"Input"}]}""");
        assertThat(off.summary(true).toString()).isEqualTo("{\"EnableCapture\":false,\"CaptureStatus\":\"Stopped\","
                + "\"CurrentSamplingPercentage\":100,\"DestinationS3Uri\":\"s3://b\"}");
    }

    @Test
    void samplingKeepsTheConfiguredShare() throws Exception {
        long seed = new Random().nextLong();
        DataCapture capture = new DataCapture((t, k, b) -> { }, new DataCapture.Limits(Duration.ofHours(1), 1 << 20), new Random(seed));
        CaptureConfig thirty = config("""
                {"InitialSamplingPercentage":30,"DestinationS3Uri":"s3://b","CaptureOptions":[{"CaptureMode":"Input"}]}""");
        int kept = 0;
        for (int i = 0; i < 10_000; i++) {
            kept += capture.sampled(thirty) ? 1 : 0;
        }
        assertThat(kept).as("30 %% of 10000 with seed %d", seed).isBetween(2_800, 3_200);
        CaptureConfig none = config("""
                {"InitialSamplingPercentage":0,"DestinationS3Uri":"s3://b","CaptureOptions":[{"CaptureMode":"Input"}]}""");
        CaptureConfig disabled = config("""
                {"EnableCapture":false,"InitialSamplingPercentage":100,"DestinationS3Uri":"s3://b","CaptureOptions":[{"CaptureMode":"Input"}]}""");
        for (int i = 0; i < 1000; i++) {
            assertThat(capture.sampled(none)).isFalse();
            assertThat(capture.sampled(disabled)).isFalse();
            assertThat(capture.sampled(both())).isTrue();
        }
    }

    @Test
    void recordsAreWrittenOneObjectPerVariantAndHour() throws Exception {
        DataCapture capture = capture(1 << 20, Duration.ofHours(1));
        CaptureConfig c = both();
        for (int i = 0; i < 3; i++) {
            capture.offer(target("A", c), exchange(T.plusSeconds(i), "a" + i + "\n"));
        }
        capture.offer(target("B", c), exchange(T, "b\n"));
        capture.offer(target("A", c), exchange(T.plus(Duration.ofHours(1)), "a-later\n"));
        capture.flush("111122223333", "other-endpoint");
        assertThat(written).isEmpty();

        capture.flush("111122223333", "churn");
        assertThat(written).hasSize(3);
        Written a = written.stream().filter(w -> w.key().contains("/A/2026/12/01/09/")).findFirst().orElseThrow();
        assertThat(a.key()).matches("capture/churn/A/2026/12/01/09/05-07-089-[0-9a-f-]{36}\\.jsonl");
        assertThat(a.body().lines().map(l -> read(l).path("captureData").path("endpointInput").path("data").asText()).toList())
                .containsExactly("a0\n", "a1\n", "a2\n");
        assertThat(written).anySatisfy(w -> assertThat(w.key()).startsWith("capture/churn/A/2026/12/01/10/05-07-089-"));
        assertThat(written).anySatisfy(w -> assertThat(w.key()).startsWith("capture/churn/B/2026/12/01/09/"));
        assertThat(capture.counts()).isEqualTo(new DataCapture.Counts(5, 0, 3, 0));
    }

    @Test
    void capturesPastTheMemoryBoundAreDroppedAndCounted() throws Exception {
        CaptureConfig c = both();
        int one = DataCapture.line(c, exchange(T, "x\n"), ID).length;
        DataCapture capture = capture(2L * one, Duration.ofHours(1));
        for (int i = 0; i < 5; i++) {
            capture.offer(target("A", c), exchange(T, "x\n"));
        }
        assertThat(capture.counts()).isEqualTo(new DataCapture.Counts(2, 3, 0, 0));
        capture.flush("111122223333", "churn");
        capture.offer(target("A", c), exchange(T, "x\n"));
        assertThat(capture.counts()).as("written captures free their room").isEqualTo(new DataCapture.Counts(3, 3, 1, 0));
    }

    @Test
    void aFailedWriteIsCountedAndFreesItsRoom() throws Exception {
        CaptureConfig c = both();
        int one = DataCapture.line(c, exchange(T, "x\n"), ID).length;
        DataCapture capture = new DataCapture((t, k, b) -> {
            throw new AwsException("AccessDenied", 403, "Access Denied");
        }, new DataCapture.Limits(Duration.ofHours(1), one), new Random(1));
        capture.offer(target("A", c), exchange(T, "x\n"));
        capture.flush("111122223333", "churn");
        capture.offer(target("A", c), exchange(T, "x\n"));
        assertThat(capture.counts()).isEqualTo(new DataCapture.Counts(2, 0, 0, 1));
    }

    @Test
    void buffersAreWrittenEveryIntervalAndAtOnceWhenFull() throws Exception {
        CaptureConfig c = both();
        try (DataCapture periodic = capture(64 << 20, Duration.ofMillis(100))) {
            periodic.start();
            periodic.offer(target("A", c), exchange(T, "x\n"));
            awaitWritten(1);
        }
        written.clear();
        try (DataCapture hourly = capture(64 << 20, Duration.ofHours(1))) {
            hourly.start();
            hourly.offer(target("A", c), exchange(T, "y".repeat(DataCapture.OBJECT_BYTES)));
            awaitWritten(1);
            hourly.offer(target("B", c), exchange(T, "z\n"));
        }
        assertThat(written).as("close writes what is left").hasSize(2);
    }

    @Test
    void closeWritesWhatIsLeftAndLaterCapturesAreDropped() throws Exception {
        DataCapture capture = capture(1 << 20, Duration.ofHours(1));
        capture.start();
        capture.offer(target("A", both()), exchange(T, "x\n"));
        capture.close();
        assertThat(written).hasSize(1);
        capture.offer(target("A", both()), exchange(T, "x\n"));
        assertThat(capture.counts()).isEqualTo(new DataCapture.Counts(1, 1, 1, 0));
    }

    private void awaitWritten(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (written.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(written).hasSize(n);
    }

    private static JsonNode read(String line) {
        try {
            return JSON.readTree(line);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
