package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.DefaultRetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * S3 objects from 0 B to 2 GiB through the AWS SDK for Java v2 (path style, endpoint override,
 * the CA of the first start), byte-identical on the way back: one PutObject for the small sizes,
 * a multipart upload in 64 MiB parts for 2 GiB, one PutObject of 1 GiB. Contents come from
 * {@link GeneratedContent}, streamed, and are compared by SHA-256 over the streamed GetObject.
 * The large cases also check that the live heap stays flat while the object streams (Citadel runs
 * in this JVM, so the heap is the server's plus the client's); they carry the tag {@code large}
 * and are left out of the SoftHSM2 re-run of the acceptance suite.
 */
class JavaSdkS3AcceptanceTest {
    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;
    private static final String BUCKET = "sdk-round-trips";
    /** Far less than any object the large cases stream, far more than their buffers and the heap's noise. */
    private static final long HEAP_GROWTH_LIMIT = 256 * MIB;

    private static TestServer server;
    private static SdkHttpClient http;
    private static S3Client s3;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        ClientFiles files = server.clientFiles();
        http = ApacheHttpClient.builder()
                .tlsTrustManagersProvider(() -> ClientEnvironment.trustManagers(files.caFile()))
                // CompleteMultipartUpload of 2 GiB answers only when the object is sealed and synced.
                .socketTimeout(Duration.ofMinutes(5))
                .build();
        ProfileFile profiles = ProfileFile.aggregator()
                .addFile(ProfileFile.builder().content(files.configFile()).type(ProfileFile.Type.CONFIGURATION).build())
                .addFile(ProfileFile.builder().content(files.credentialsFile()).type(ProfileFile.Type.CREDENTIALS).build())
                .build();
        s3 = S3Client.builder()
                .httpClient(http)
                .endpointOverride(server.endpoint())
                .forcePathStyle(true)
                .region(Region.of(profiles.profile(ClientFiles.PROFILE).orElseThrow().property("region").orElseThrow()))
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                // A retried request would hide the failure this test exists to show.
                .overrideConfiguration(ClientOverrideConfiguration.builder().retryStrategy(DefaultRetryStrategy.doNotRetry()).build())
                .build();
        s3.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (http != null) {
            http.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {0, 1, 5 * MIB - 1, 5 * MIB + 1, 64 * MIB})
    void onePutObjectRoundTripsByteIdentical(long size) {
        GeneratedContent content = new GeneratedContent(size, size);
        String key = "single/" + size;
        String etag = s3.putObject(b -> b.bucket(BUCKET).key(key), body(content, 0, size)).eTag();
        assertThat(etag).isEqualTo("\"" + content.md5Hex() + "\"");

        assertThat(getSha256(key, size)).isEqualTo(content.sha256Hex());
        s3.deleteObject(b -> b.bucket(BUCKET).key(key));
    }

    @Test
    @Tag("large")
    void multipartUploadOf2GiBRoundTripsByteIdenticalWithFlatHeap() {
        long size = 2 * GIB;
        long partSize = 64 * MIB;
        GeneratedContent content = new GeneratedContent(2026, size);
        String key = "multipart/2GiB";

        long t0 = System.nanoTime();
        HeapWatch.Peak upload;
        try (HeapWatch watch = HeapWatch.start(Duration.ofSeconds(1))) {
            String uploadId = s3.createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
            List<CompletedPart> parts = new ArrayList<>();
            for (int n = 1; (n - 1) * partSize < size; n++) {
                int number = n;
                long offset = (n - 1) * partSize;
                long length = Math.min(partSize, size - offset);
                String partEtag = s3.uploadPart(b -> b.bucket(BUCKET).key(key).uploadId(uploadId).partNumber(number), body(content, offset, length))
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(partEtag).build());
            }
            long completing = System.nanoTime();
            String etag = s3.completeMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)))
                    .eTag();
            assertThat(etag).matches("\"[0-9a-f]{32}-32\"");
            upload = watch.stop();
            System.out.printf(Locale.ROOT, "2 GiB CompleteMultipartUpload: %.1f s%n", (System.nanoTime() - completing) / 1e9);
        }
        long t1 = System.nanoTime();
        HeapWatch.Peak download;
        String sha256;
        try (HeapWatch watch = HeapWatch.start(Duration.ofSeconds(1))) {
            sha256 = getSha256(key, size);
            download = watch.stop();
        }
        long t2 = System.nanoTime();
        report("2 GiB multipart PUT (32 x 64 MiB)", size, t1 - t0, upload);
        report("2 GiB GET", size, t2 - t1, download);

        assertThat(sha256).isEqualTo(content.sha256Hex());
        assertThat(upload.growth()).as("%s during the multipart upload", upload).isLessThan(HEAP_GROWTH_LIMIT);
        assertThat(download.growth()).as("%s during the download", download).isLessThan(HEAP_GROWTH_LIMIT);

        // Ranges inside a part, across the first part boundary, across 1 MiB boundaries, and the last bytes.
        assertRange(key, content, 12_345, 678);
        assertRange(key, content, partSize - 1000, 2000);
        assertRange(key, content, 17 * partSize + 3 * MIB - 7, (int) (2 * MIB + 14));
        assertRange(key, content, size - 4097, 4097);
        try (ResponseInputStream<GetObjectResponse> suffix = s3.getObject(b -> b.bucket(BUCKET).key(key).range("bytes=-100"))) {
            assertThat(suffix.response().contentRange()).isEqualTo("bytes " + (size - 100) + "-" + (size - 1) + "/" + size);
            assertThat(suffix.readAllBytes()).isEqualTo(content.bytes(size - 100, 100));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        s3.deleteObject(b -> b.bucket(BUCKET).key(key));
    }

    @Test
    @Tag("large")
    void onePutObjectOf1GiBRoundTripsByteIdenticalWithFlatHeap() {
        long size = GIB;
        GeneratedContent content = new GeneratedContent(1, size);
        String key = "single/1GiB";

        long t0 = System.nanoTime();
        HeapWatch.Peak upload;
        String etag;
        try (HeapWatch watch = HeapWatch.start(Duration.ofSeconds(1))) {
            etag = s3.putObject(b -> b.bucket(BUCKET).key(key), body(content, 0, size)).eTag();
            upload = watch.stop();
        }
        long t1 = System.nanoTime();
        String sha256 = getSha256(key, size);
        long t2 = System.nanoTime();
        report("1 GiB single PUT", size, t1 - t0, upload);
        report("1 GiB GET", size, t2 - t1, null);

        assertThat(etag).isEqualTo("\"" + content.md5Hex() + "\"");
        assertThat(sha256).isEqualTo(content.sha256Hex());
        assertThat(upload.growth()).as("%s during the upload", upload).isLessThan(HEAP_GROWTH_LIMIT);
        assertRange(key, content, GIB / 2 - 5, 10);
        s3.deleteObject(b -> b.bucket(BUCKET).key(key));
    }

    @Test
    void generatedContentIsTheSameWhicheverOffsetItIsReadFrom() throws IOException {
        GeneratedContent content = new GeneratedContent(7, 1000);
        byte[] whole;
        try (InputStream in = content.stream()) {
            whole = in.readAllBytes();
        }
        for (int from : new int[] {0, 1, 7, 8, 9, 500, 931}) {
            for (int length : new int[] {0, 1, 6, 7, 8, 9, 7 * 8 + 3}) {
                assertThat(content.bytes(from, length)).isEqualTo(java.util.Arrays.copyOfRange(whole, from, from + length));
                try (InputStream in = content.stream(from, length)) {
                    assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(whole, from, from + length));
                }
            }
        }
    }

    /** A body the SDK can read again from the start (each call returns a new stream), never held in memory. */
    private static RequestBody body(GeneratedContent content, long offset, long length) {
        return RequestBody.fromContentProvider(() -> content.stream(offset, length), length, "application/octet-stream");
    }

    private static String getSha256(String key, long expectedLength) {
        ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(BUCKET).key(key));
        assertThat(in.response().contentLength()).isEqualTo(expectedLength);
        return GeneratedContent.digestHex(in, "SHA-256");
    }

    private static void assertRange(String key, GeneratedContent content, long first, int length) {
        long last = first + length - 1;
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(BUCKET).key(key).range("bytes=" + first + "-" + last))) {
            assertThat(in.response().contentRange()).isEqualTo("bytes " + first + "-" + last + "/" + content.size());
            assertThat(in.readAllBytes()).as("bytes %d-%d", first, last).isEqualTo(content.bytes(first, length));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void report(String what, long bytes, long nanos, HeapWatch.Peak heap) {
        System.out.printf(Locale.ROOT, "%s: %.1f s, %.0f MB/s%s%n", what, nanos / 1e9, bytes / (nanos / 1e9) / 1e6,
                heap == null ? "" : "; " + heap);
    }
}
