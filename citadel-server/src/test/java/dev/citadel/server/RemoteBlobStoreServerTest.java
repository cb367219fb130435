package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Two Citadels: the backing one is a plain S3-compatible service holding a bucket; the front one
 * runs with {@code s3.blob-store = remote} against it, signing as an IAM user of the backing
 * one that may use only that bucket. Clients use the front with the AWS SDK for Java v2; the
 * backing bucket must then hold sealed blobs only, one per object, and follow deletes, restarts
 * and failed writes.
 */
@Tag("runs-once")
class RemoteBlobStoreServerTest {
    private static final String BLOB_BUCKET = "front-blobs";
    private static final String PREFIX = "front/";
    private static final String MARKER = "CITADEL-REMOTE-FRONT-MARKER-c4ca4238a0b923820dcc";

    private static TestServer backing;
    private static TestServer front;
    private static S3Client backingAdmin;
    private static Path secretDir;
    private static String[] frontSettings;

    @BeforeAll
    static void start() throws Exception {
        backing = TestServer.start();
        backingAdmin = client(backing);
        backingAdmin.createBucket(b -> b.bucket(BLOB_BUCKET));
        String policy = """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject","s3:DeleteObject",
                "s3:ListBucket","s3:ListBucketMultipartUploads","s3:AbortMultipartUpload"],
                "Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}""".formatted(BLOB_BUCKET, BLOB_BUCKET).replace("\n", "");
        ClientEnvironment.Result r = ClientEnvironment.run(backing.clientFiles(), List.of("sh", "-c",
                "aws iam create-user --user-name citadel-front >/dev/null"
                        + " && aws iam put-user-policy --user-name citadel-front --policy-name blob-store --policy-document '" + policy + "'"
                        + " && aws iam create-access-key --user-name citadel-front --output json"));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode key = new ObjectMapper().readTree(r.stdout()).path("AccessKey");

        secretDir = Files.createTempDirectory("citadel-front-secret-");
        Path secret = secretDir.resolve("blob-store.secret");
        Files.createFile(secret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(secret, key.path("SecretAccessKey").asText() + "\n");
        frontSettings = new String[] {
            "s3.blob-store=remote",
            "s3.remote.endpoint=https://localhost:" + backing.port(),
            "s3.remote.bucket=" + BLOB_BUCKET,
            "s3.remote.prefix=" + PREFIX,
            "s3.remote.access-key-id=" + key.path("AccessKeyId").asText(),
            "s3.remote.secret-access-key-file=" + secret,
            "s3.remote.ca-file=" + backing.clientFiles().caFile(),
        };
        front = TestServer.start(frontSettings);
    }

    @AfterAll
    static void stop() throws IOException {
        if (front != null) {
            front.close();
        }
        if (backingAdmin != null) {
            backingAdmin.close();
        }
        if (backing != null) {
            backing.close();
        }
        if (secretDir != null) {
            try (var files = Files.walk(secretDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A client of a server as its admin, trusting the server's CA. */
    private static S3Client client(TestServer server) throws IOException {
        return clientBuilder(server).build();
    }

    private static software.amazon.awssdk.services.s3.S3ClientBuilder clientBuilder(TestServer server) throws IOException {
        List<String> credentials = Files.readAllLines(server.clientFiles().credentialsFile());
        Path ca = server.clientFiles().caFile();
        return S3Client.builder()
                .httpClientBuilder(ApacheHttpClient.builder().tlsTrustManagersProvider(() -> ClientEnvironment.trustManagers(ca)))
                .endpointOverride(server.endpoint())
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        value(credentials, "aws_access_key_id"), value(credentials, "aws_secret_access_key"))));
    }

    private static String value(List<String> credentialsFile, String name) {
        return credentialsFile.stream().filter(l -> l.startsWith(name + " ")).map(l -> l.substring(l.indexOf('=') + 1).strip())
                .findFirst().orElseThrow();
    }

    private static S3Client frontClient() throws IOException {
        return client(front);
    }

    private static Set<String> remoteBlobs() {
        return backingAdmin.listObjectsV2Paginator(b -> b.bucket(BLOB_BUCKET).prefix(PREFIX)).contents().stream()
                .map(S3Object::key).collect(Collectors.toSet());
    }

    private static byte[] data(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, data, 0, marker.length);
        return data;
    }

    private static byte[] get(S3Client s3, String bucket, String key, String range) {
        return s3.getObjectAsBytes(b -> b.bucket(bucket).key(key).range(range)).asByteArray();
    }

    @Test
    void objectsPutRangedMultipartAndCopiedReadBackByteIdentically() throws Exception {
        try (S3Client s3 = frontClient()) {
            s3.createBucket(b -> b.bucket("round-trip"));
            byte[] small = (MARKER + " a small object").getBytes(StandardCharsets.UTF_8);
            byte[] large = data(3 * (1 << 20) + 5, 1);
            s3.putObject(b -> b.bucket("round-trip").key("small.txt"), RequestBody.fromBytes(small));
            s3.putObject(b -> b.bucket("round-trip").key("dir/large.bin"), RequestBody.fromBytes(large));

            assertThat(get(s3, "round-trip", "small.txt", null)).isEqualTo(small);
            assertThat(get(s3, "round-trip", "dir/large.bin", null)).isEqualTo(large);
            assertThat(get(s3, "round-trip", "dir/large.bin", "bytes=1048570-1048600"))
                    .isEqualTo(Arrays.copyOfRange(large, 1048570, 1048601));
            assertThat(get(s3, "round-trip", "dir/large.bin", "bytes=-7")).isEqualTo(Arrays.copyOfRange(large, large.length - 7, large.length));
            assertThat(s3.headObject(b -> b.bucket("round-trip").key("dir/large.bin")).contentLength()).isEqualTo(large.length);

            byte[] part1 = data(5 << 20, 2);
            byte[] part2 = data(5 << 20, 3);
            byte[] part3 = data(1000, 4);
            String uploadId = s3.createMultipartUpload(b -> b.bucket("round-trip").key("multi.bin")).uploadId();
            List<CompletedPart> parts = new java.util.ArrayList<>();
            int number = 1;
            for (byte[] part : List.of(part1, part2, part3)) {
                int n = number++;
                String etag = s3.uploadPart(b -> b.bucket("round-trip").key("multi.bin").uploadId(uploadId).partNumber(n),
                        RequestBody.fromBytes(part)).eTag();
                parts.add(CompletedPart.builder().partNumber(n).eTag(etag).build());
            }
            s3.completeMultipartUpload(b -> b.bucket("round-trip").key("multi.bin").uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
            whole.writeBytes(part1);
            whole.writeBytes(part2);
            whole.writeBytes(part3);
            assertThat(get(s3, "round-trip", "multi.bin", null)).isEqualTo(whole.toByteArray());
            assertThat(get(s3, "round-trip", "multi.bin", "bytes=5242870-5242900"))
                    .isEqualTo(Arrays.copyOfRange(whole.toByteArray(), 5242870, 5242901));

            s3.copyObject(b -> b.sourceBucket("round-trip").sourceKey("dir/large.bin").destinationBucket("round-trip").destinationKey("copy.bin"));
            assertThat(get(s3, "round-trip", "copy.bin", null)).isEqualTo(large);

            s3.deleteObject(b -> b.bucket("round-trip").key("copy.bin"));
            assertThatThrownBy(() -> get(s3, "round-trip", "copy.bin", null)).isInstanceOf(NoSuchKeyException.class);
            assertThat(get(s3, "round-trip", "dir/large.bin", null)).isEqualTo(large);
        }
        assertThat(backingAdmin.listMultipartUploads(b -> b.bucket(BLOB_BUCKET).prefix(PREFIX)).uploads()).isEmpty();
    }

    @Test
    void theBackingBucketHoldsOneSealedBlobPerObjectAndNoPlaintext() throws Exception {
        byte[] text = (MARKER + " and more text").repeat(2000).getBytes(StandardCharsets.UTF_8);
        Set<String> before = remoteBlobs();
        try (S3Client s3 = frontClient()) {
            s3.createBucket(b -> b.bucket("sealed"));
            s3.putObject(b -> b.bucket("sealed").key("labels/" + MARKER + ".csv"), RequestBody.fromBytes(text));
        }
        Set<String> added = remoteBlobs();
        added.removeAll(before);
        assertThat(added).singleElement().asString().matches(PREFIX + "([0-9a-f]{2})/\\1[0-9a-f]{30}");

        byte[] first64 = Arrays.copyOf(text, 64);
        List<String> needles = List.of(MARKER, new String(first64, StandardCharsets.ISO_8859_1), "sealed", "labels/",
                Base64.getEncoder().encodeToString(first64).substring(0, 40), HexFormat.of().formatHex(first64).substring(0, 40),
                new String(MARKER.getBytes(StandardCharsets.UTF_16LE), StandardCharsets.ISO_8859_1));
        for (String blob : remoteBlobs()) {
            byte[] stored = backingAdmin.getObjectAsBytes(b -> b.bucket(BLOB_BUCKET).key(blob)).asByteArray();
            assertThat(new String(stored, 0, 4, StandardCharsets.US_ASCII)).as(blob).isEqualTo("CTZB");
            String raw = new String(stored, StandardCharsets.ISO_8859_1);
            for (String needle : needles) {
                assertThat(raw).as("%s holds a form of the plaintext or its name", blob).doesNotContain(needle);
            }
        }
        assertThat(front.dataDir().resolve("objects")).doesNotExist();
        String secret = Files.readString(secretDir.resolve("blob-store.secret")).strip();
        assertThat(front.citadel().banner()).contains("object contents:  bucket " + BLOB_BUCKET + ", prefix '" + PREFIX + "' at https://localhost:")
                .doesNotContain(secret);
        try (var files = Files.walk(front.dataDir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as("%s holds the blob store's secret", f)
                        .doesNotContain(secret);
            }
        }
        assertThat(front.dataDir().resolve("spool")).isEmptyDirectory();
    }

    @Test
    void overwritingAndDeletingAnObjectRemoveItsRemoteBlobs() throws Exception {
        try (S3Client s3 = frontClient()) {
            s3.createBucket(b -> b.bucket("deletes"));
            Set<String> before = remoteBlobs();
            s3.putObject(b -> b.bucket("deletes").key("k"), RequestBody.fromBytes(data(1000, 5)));
            Set<String> first = remoteBlobs();
            assertThat(first).hasSize(before.size() + 1).containsAll(before);

            s3.putObject(b -> b.bucket("deletes").key("k"), RequestBody.fromBytes(data(1000, 6)));
            Set<String> second = remoteBlobs();
            assertThat(second).hasSize(before.size() + 1).containsAll(before).isNotEqualTo(first);
            assertThat(get(s3, "deletes", "k", null)).isEqualTo(data(1000, 6));

            s3.deleteObject(b -> b.bucket("deletes").key("k"));
            assertThat(remoteBlobs()).isEqualTo(before);
        }
    }

    @Test
    void aPutWhoseBodyFailsLeavesNothingRemote() throws Exception {
        Set<String> before = remoteBlobs();
        int length = 4 << 20;
        try (S3Client s3 = frontClient()) {
            s3.createBucket(b -> b.bucket("failing"));
        }
        try (S3Client once = clientBuilder(front).overrideConfiguration(o -> o.retryStrategy(DefaultRetryStrategy.doNotRetry())).build()) {
            assertThatThrownBy(() -> once.putObject(b -> b.bucket("failing").key("broken"), RequestBody.fromContentProvider(() -> new InputStream() {
                private int sent;

                @Override
                public int read() throws IOException {
                    if (sent++ >= (2 << 20)) {
                        throw new IOException("the client's disk failed");
                    }
                    return 'y';
                }
            }, length, "application/octet-stream")));
        }
        Path audit = front.dataDir().resolve("audit/events.jsonl");
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.readAllLines(audit).stream()
                .anyMatch(l -> l.contains("\"PutObject\"") && l.contains("failing") && l.contains("\"errorCode\"")));
        assertThat(remoteBlobs()).isEqualTo(before);
        assertThat(backingAdmin.listMultipartUploads(b -> b.bucket(BLOB_BUCKET).prefix(PREFIX)).uploads()).isEmpty();
        assertThat(front.dataDir().resolve("spool")).isEmptyDirectory();
        try (S3Client s3 = frontClient()) {
            assertThatThrownBy(() -> get(s3, "failing", "broken", null)).isInstanceOf(NoSuchKeyException.class);
        }
    }

    @Test
    void afterARestartEverythingReadsAndTheSweepRemovesUnreferencedBlobsAndUploads() throws Exception {
        byte[] large = data(2 * (1 << 20) + 9, 7);
        try (S3Client s3 = frontClient()) {
            s3.createBucket(b -> b.bucket("restart"));
            s3.putObject(b -> b.bucket("restart").key("large.bin"), RequestBody.fromBytes(large));
            s3.putObject(b -> b.bucket("restart").key("small.txt"), RequestBody.fromBytes(MARKER.getBytes(StandardCharsets.UTF_8)));
        }
        String stray = PREFIX + "ab/ab" + "0".repeat(30);
        backingAdmin.putObject(b -> b.bucket(BLOB_BUCKET).key(stray), RequestBody.fromBytes(new byte[] {1, 2, 3}));
        String abandoned = PREFIX + "cd/cd" + "1".repeat(30);
        backingAdmin.createMultipartUpload(b -> b.bucket(BLOB_BUCKET).key(abandoned));
        Set<String> before = remoteBlobs();

        front = front.restart(frontSettings);

        try (S3Client s3 = frontClient()) {
            assertThat(get(s3, "restart", "large.bin", null)).isEqualTo(large);
            assertThat(get(s3, "restart", "large.bin", "bytes=2097150-2097160")).isEqualTo(Arrays.copyOfRange(large, 2097150, 2097161));
            assertThat(get(s3, "restart", "small.txt", null)).isEqualTo(MARKER.getBytes(StandardCharsets.UTF_8));
        }
        Set<String> expected = new java.util.HashSet<>(before);
        expected.remove(stray);
        assertThat(remoteBlobs()).isEqualTo(expected);
        assertThatThrownBy(() -> backingAdmin.headObject(b -> b.bucket(BLOB_BUCKET).key(stray)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(404));
        assertThat(backingAdmin.listMultipartUploads(b -> b.bucket(BLOB_BUCKET).prefix(PREFIX)).uploads()).isEmpty();
    }

}
