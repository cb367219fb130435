package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** S3, first part, with boto3 and the AWS CLI v2: buckets, objects, listings, errors, and nothing unencrypted on disk. */
class S3AcceptanceTest {
    private static final String MARKER = "CITADEL-S3-MARKER-5d41402abc4b2a76";
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void bucketsAndObjectsWithBoto3() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("env", "MARKER=" + MARKER, "python3",
                ClientEnvironment.resourceFile("/acceptance/boto3_s3.py").toString()));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("duplicate").asText()).startsWith("BucketAlreadyOwnedByYou");
        assertThat(out.path("bad_name").asText()).startsWith("InvalidBucketName");
        assertThat(out.path("etag").asBoolean()).isTrue();
        assertThat(out.path("sse").asText()).isEqualTo("AES256");
        assertThat(out.path("round_trip").asBoolean()).isTrue();
        assertThat(out.path("metadata").path("label").asText()).isEqualTo("cat");
        assertThat(out.path("range").asBoolean()).isTrue();
        assertThat(out.path("suffix_range").asBoolean()).isTrue();
        assertThat(out.path("invalid_range").asText()).startsWith("InvalidRange");
        assertThat(out.path("if_match_fails").asText()).startsWith("PreconditionFailed");
        assertThat(out.path("head_length").asLong()).isEqualTo(3 * 1024 * 1024 + 5);
        assertThat(out.path("odd_key").asText()).isEqualTo("odd key");
        assertThat(out.path("delimited").toString()).isEqualTo("[\"a/\",\"images/\",\"labels.csv\"]");
        assertThat(out.path("paged").toString()).isEqualTo("[\"a//b/../c%2Fd\",\"images/cat 1.jpg\",\"images/dog.jpg\",\"labels.csv\"]");
        assertThat(out.path("v1").toString()).isEqualTo("[\"images/cat 1.jpg\",\"images/dog.jpg\"]");
        assertThat(out.path("multipart_round_trip").asBoolean()).isTrue();
        assertThat(out.path("multipart_etag").asText()).matches("\"[0-9a-f]{32}-3\"");
        assertThat(out.path("uploads_listed").asBoolean()).isTrue();
        assertThat(out.path("parts_listed").toString()).isEqualTo("[1,2]");
        assertThat(out.path("too_small").asText()).startsWith("EntityTooSmall");
        assertThat(out.path("wrong_order").asText()).startsWith("InvalidPartOrder");
        assertThat(out.path("wrong_etag").asText()).startsWith("InvalidPart");
        assertThat(out.path("aborted").asText()).startsWith("NoSuchUpload");
        assertThat(out.path("copy").asText()).isEqualTo("a,b");
        assertThat(out.path("copy_missing_source").asText()).startsWith("NoSuchKey");
        assertThat(out.path("delete_objects").toString()).isEqualTo("[\"tmp/1\",\"tmp/2\",\"tmp/never\"]");
        assertThat(out.path("delete_objects_gone").asInt()).isZero();
        assertThat(out.path("sse_kms_put").toString()).isEqualTo("[\"aws:kms\",true]");
        assertThat(out.path("sse_kms_get").toString()).isEqualTo("[\"weights under a customer key\",\"aws:kms\"]");
        assertThat(out.path("direct_decrypt_denied_by_via_service").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("sse_kms_get_disabled_key").asText()).startsWith("KMS.DisabledException");
        assertThat(out.path("sse_kms_unknown_key").asText()).startsWith("KMS.NotFoundException");
        assertThat(out.path("member_before_policy").asText()).startsWith("AccessDenied");
        assertThat(out.path("no_policy_yet").asText()).startsWith("NoSuchBucketPolicy");
        assertThat(out.path("malformed_policy").asText()).startsWith("MalformedPolicy");
        assertThat(out.path("policy_round_trip").asText()).isEqualTo("s3:GetObject");
        assertThat(out.path("member_with_policy").asText()).isEqualTo("a,b");
        assertThat(out.path("member_list_not_granted").asText()).startsWith("AccessDenied");
        assertThat(out.path("owner_denied_by_source_ip").asText()).startsWith("AccessDenied");
        assertThat(out.path("member_after_delete").asText()).startsWith("AccessDenied");
        assertThat(out.path("no_key").asText()).startsWith("NoSuchKey");
        assertThat(out.path("no_bucket").asText()).startsWith("NoSuchBucket");
        assertThat(out.path("bad_md5").asText()).startsWith("BadDigest");
        assertThat(out.path("bad_md5_changed_nothing").asText()).startsWith("404");
        assertThat(out.path("sse_c").asText()).startsWith("InvalidRequest");
        assertThat(out.path("long_key").asText()).startsWith("KeyTooLongError");
        assertThat(out.path("not_empty").asText()).startsWith("BucketNotEmpty");
        assertThat(out.path("deleted").asText()).startsWith("404");
        assertThat(out.path("buckets").toString()).contains("\"training-data\"");
        assertThat(out.path("bucket_deleted").asText()).startsWith("404");

        // No file under the data directory holds the marker or the object's first 64 bytes, in any encoding tried.
        byte[] first64 = (MARKER + " and more text").repeat(5).substring(0, 64).getBytes(StandardCharsets.UTF_8);
        List<String> needles = List.of(MARKER, new String(first64, StandardCharsets.ISO_8859_1),
                Base64.getEncoder().encodeToString(first64).substring(0, 40), HexFormat.of().formatHex(first64).substring(0, 40),
                new String(MARKER.getBytes(StandardCharsets.UTF_16LE), StandardCharsets.ISO_8859_1));
        try (var files = Files.walk(server.dataDir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String raw = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                for (String needle : needles) {
                    assertThat(raw).as("%s holds a form of the marker", f).doesNotContain(needle);
                }
            }
        }
    }

    @Test
    void versionsEncryptionTagsChecksumsAndPresignedPutWithBoto3() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3",
                ClientEnvironment.resourceFile("/acceptance/boto3_s3_versions.py").toString()));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        // versioning
        assertThat(out.path("versioning_initially").asText()).isEmpty();
        assertThat(out.path("bad_versioning").asText()).startsWith("MalformedXML");
        assertThat(out.path("versioning").asText()).isEqualTo("Enabled");
        assertThat(out.path("distinct_versions").asBoolean()).isTrue();
        assertThat(out.path("latest").asText()).isEqualTo("second");
        assertThat(out.path("old_version").asText()).isEqualTo("first");
        assertThat(out.path("head_version_id").asBoolean()).isTrue();
        assertThat(out.path("delete_marker").toString()).isEqualTo("[true,32]");
        assertThat(out.path("after_delete").asText()).startsWith("NoSuchKey");
        assertThat(out.path("listed_after_delete").toString()).isEqualTo("[\"before\"]");
        assertThat(out.path("versions").toString()).isEqualTo("[[\"before\",true,true],[\"model.bin\",false,false],[\"model.bin\",false,false]]");
        assertThat(out.path("markers").toString()).isEqualTo("[[\"model.bin\",true]]");
        assertThat(out.path("get_marker_version").asText()).startsWith("MethodNotAllowed");
        assertThat(out.path("no_such_version").asText()).startsWith("NoSuchVersion");
        assertThat(out.path("bad_version_id").asText()).startsWith("InvalidArgument");
        assertThat(out.path("undeleted").asText()).isEqualTo("second");
        assertThat(out.path("previous_is_latest").asText()).isEqualTo("first");
        assertThat(out.path("copy_from_version").toString()).isEqualTo("[\"first\",true]");
        assertThat(out.path("version_pages").toString()).isEqualTo("[1,1,1]");
        assertThat(out.path("paged_versions").asInt()).isEqualTo(3);
        assertThat(out.path("delete_objects_versioned").toString()).isEqualTo("[[\"copied\",true,false],[\"model.bin\",false,true]]");
        assertThat(out.path("bucket_not_empty_with_versions").asText()).startsWith("BucketNotEmpty");
        assertThat(out.path("suspended_versions").toString()).isEqualTo("[\"null\"]");
        assertThat(out.path("suspended_delete").toString()).isEqualTo("[[\"null\",true]]");
        assertThat(out.path("suspended_null_version_replaced").toString()).isEqualTo("[]");
        assertThat(out.path("versioned_bucket_deleted").asText()).startsWith("404");
        // default encryption
        assertThat(out.path("default_encryption").toString())
                .isEqualTo("{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"},\"BucketKeyEnabled\":false}");
        assertThat(out.path("kms_rule").toString()).isEqualTo("[\"aws:kms\",true,true]");
        assertThat(out.path("default_kms_put").toString()).isEqualTo("[\"aws:kms\",true,true]");
        assertThat(out.path("default_kms_head").toString()).isEqualTo("[\"aws:kms\",true,true]");
        assertThat(out.path("explicit_aes256").asText()).isEqualTo("AES256");
        assertThat(out.path("multipart_kms").toString()).isEqualTo("[\"aws:kms\",true,true]");
        assertThat(out.path("bad_rule").asText()).startsWith("InvalidArgument");
        assertThat(out.path("bad_rule_changed_nothing").asText()).isEqualTo("aws:kms");
        assertThat(out.path("put_disabled_default_key").asText()).startsWith("KMS.DisabledException");
        assertThat(out.path("after_delete_encryption").asText()).isEqualTo("AES256");
        // tags
        assertThat(out.path("no_bucket_tags").asText()).startsWith("NoSuchTagSet");
        assertThat(out.path("bucket_tags").toString()).isEqualTo("[[\"cost-center\",\"42\"],[\"team\",\"vision\"]]");
        assertThat(out.path("duplicate_tag").asText()).startsWith("InvalidTag");
        assertThat(out.path("bucket_tags_deleted").asText()).startsWith("NoSuchTagSet");
        assertThat(out.path("tag_count").asInt()).isEqualTo(2);
        assertThat(out.path("object_tags").toString()).isEqualTo("[[\"owner\",\"data team\"],[\"stage\",\"raw\"]]");
        assertThat(out.path("object_tags_replaced").toString()).isEqualTo("[[\"stage\",\"clean\"]]");
        assertThat(out.path("too_many_tags").asText()).startsWith("BadRequest");
        assertThat(out.path("aws_prefix_tag").asText()).startsWith("InvalidTag");
        assertThat(out.path("tags_unchanged").toString()).isEqualTo("[[\"stage\",\"clean\"]]");
        assertThat(out.path("object_tags_deleted").toString()).isEqualTo("[]");
        assertThat(out.path("tagging_missing_key").asText()).startsWith("NoSuchKey");
        // checksums
        assertThat(out.path("put_crc32").asBoolean()).isTrue();
        assertThat(out.path("get_crc32").toString()).isEqualTo("[true,true]");
        assertThat(out.path("put_sha256").asBoolean()).isTrue();
        assertThat(out.path("wrong_sha256").asText()).startsWith("BadDigest");
        assertThat(out.path("wrong_sha256_changed_nothing").asText()).startsWith("404");
        assertThat(out.path("malformed_checksum").asText()).startsWith("InvalidRequest");
        assertThat(out.path("multipart_composite").toString()).isEqualTo("[true,\"COMPOSITE\"]");
        assertThat(out.path("full_object_checksum").toString()).isEqualTo("[true,true]");
        assertThat(out.path("part_checksum_missing").asText()).startsWith("InvalidRequest");
        assertThat(out.path("part_checksum_wrong").asText()).startsWith("InvalidPart");
        // presigned URLs: SigV4 only; a tampered one changes nothing
        assertThat(out.path("presigned_sigv2_refused").asInt()).isEqualTo(400);
        assertThat(out.path("presigned_sigv2_error").asText()).startsWith("<?xml").contains("<Error><Code>InvalidRequest</Code>");
        // No anonymous access exists: an unsigned request is refused in S3's own error shape.
        assertThat(out.path("anonymous").get(0).asInt()).isEqualTo(403);
        assertThat(out.path("anonymous").get(1).asText()).contains("<Error><Code>AccessDenied</Code>");
        assertThat(out.path("presigned_put_status").asInt()).isEqualTo(200);
        assertThat(out.path("presigned_get").asText()).isEqualTo("uploaded through a presigned URL");
        assertThat(out.path("presigned_tampered").asInt()).isEqualTo(403);
        assertThat(out.path("presigned_tampered_changed_nothing").asText()).startsWith("404");
        assertThat(out.path("malformed_delete").asText()).startsWith("MalformedXML");
        // DeleteObjects: each key decided alone
        assertThat(out.path("per_key_deleted").toString()).isEqualTo("[\"mine/a\"]");
        assertThat(out.path("per_key_errors").toString()).isEqualTo("[[\"theirs/b\",\"AccessDenied\"]]");
        assertThat(out.path("per_key_refused_kept").asText()).isEqualTo("b");
        assertThat(out.path("per_key_allowed_gone").asText()).startsWith("404");
        // On the record: object-level calls are data events, bucket-level ones management events, each with its typed resources.
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> events = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(server.dataDir().resolve("audit").resolve("events.jsonl"))) {
            events.add(json.readTree(line));
        }
        JsonNode put = events.stream().filter(e -> e.path("eventName").asText().equals("PutObject")
                && e.path("resources").path(0).path("ARN").asText().equals("arn:aws:s3:::encrypted-data/tagged")).findFirst().orElseThrow();
        assertThat(put.path("eventCategory").asText()).isEqualTo("Data");
        assertThat(put.path("managementEvent").asBoolean()).isFalse();
        assertThat(put.path("resources").path(0).path("type").asText()).isEqualTo("AWS::S3::Object");
        JsonNode create = events.stream().filter(e -> e.path("eventName").asText().equals("CreateBucket")
                && e.path("resources").path(0).path("ARN").asText().equals("arn:aws:s3:::encrypted-data")).findFirst().orElseThrow();
        assertThat(create.path("eventCategory").asText()).isEqualTo("Management");
        assertThat(create.path("resources").path(0).path("type").asText()).isEqualTo("AWS::S3::Bucket");
        JsonNode partial = events.stream().filter(e -> e.path("eventName").asText().equals("DeleteObjects")
                && e.path("userIdentity").path("userName").asText().equals("prefix-cleaner")).findFirst().orElseThrow();
        assertThat(partial.path("resources").toString()).contains("arn:aws:s3:::encrypted-data/mine/a", "arn:aws:s3:::encrypted-data/theirs/b");
    }

    @Test
    void awsCliCopiesListsPresignsAndRemoves() throws Exception {
        Path file = Files.createTempFile("citadel-s3", ".bin");
        byte[] data = new byte[20 * (1 << 20) + 7];
        new java.util.Random(3).nextBytes(data);
        Files.write(file, data);
        Path back = Files.createTempFile("citadel-s3", ".back");
        try {
            aws("s3", "mb", "s3://cli-bucket");
            aws("s3", "cp", file.toString(), "s3://cli-bucket/dir/data.bin");
            assertThat(aws("s3", "ls", "s3://cli-bucket/", "--recursive").stdout()).contains("dir/data.bin").contains(Integer.toString(data.length));
            aws("s3", "cp", "s3://cli-bucket/dir/data.bin", back.toString());
            assertThat(Files.readAllBytes(back)).isEqualTo(data);
            String url = aws("s3", "presign", "s3://cli-bucket/dir/data.bin").stdout().strip();
            ClientEnvironment.Result fetched = ClientEnvironment.run(server.clientFiles(), List.of("curl", "-sf", "--cacert",
                    server.clientFiles().caFile().toString(), "-o", back.toString(), url));
            assertThat(fetched.exitCode()).as(fetched.stderr()).isZero();
            assertThat(Files.readAllBytes(back)).isEqualTo(data);
            aws("s3", "cp", "s3://cli-bucket/dir/data.bin", "s3://cli-bucket/copy/data.bin");
            aws("s3", "mv", "s3://cli-bucket/copy/data.bin", "s3://cli-bucket/moved/data.bin");
            aws("s3", "cp", "s3://cli-bucket/moved/data.bin", back.toString());
            assertThat(Files.readAllBytes(back)).isEqualTo(data);
            aws("s3", "rm", "s3://cli-bucket/", "--recursive");
            assertThat(aws("s3", "ls", "s3://cli-bucket/", "--recursive").stdout()).isEmpty();
            aws("s3", "rb", "s3://cli-bucket");
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(back);
        }
    }

    /**
     * The AWS CLI v2 ({@code aws s3 sync} both ways) and boto3's managed transfer round-trip 0 B,
     * 1 B, 8 MiB + 1 and 2 GiB byte-identically. Tagged {@code large}: it does not depend on where
     * the root key lives, so the SoftHSM2 re-run leaves it out.
     */
    @Test
    @org.junit.jupiter.api.Tag("large")
    void awsCliAndBoto3RoundTripZeroBytesToTwoGiB() throws Exception {
        Path work = Files.createTempDirectory("citadel-round-trips-");
        try {
            ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3",
                    ClientEnvironment.resourceFile("/acceptance/s3_round_trips.py").toString(), work.resolve("files").toString()));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode out = new ObjectMapper().readTree(r.stdout());
            assertThat(out.path("cli").toString()).isEqualTo("{\"empty\":true,\"one\":true,\"past-threshold\":true,\"two-gib\":true}");
            assertThat(out.path("cli_sizes").asBoolean()).isTrue();
            assertThat(out.path("boto3").toString()).isEqualTo("{\"empty\":true,\"one\":true,\"past-threshold\":true,\"two-gib\":true}");
            assertThat(out.path("boto3_multipart_etag").asBoolean()).isTrue();
        } finally {
            try (var walk = Files.walk(work)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A PUT whose body differs from the SHA-256 it was signed with is refused while it streams, and nothing is stored. */
    @Test
    void aBodyThatDoesNotMatchItsSignedHashLeavesNothing() throws Exception {
        RawClient client = new RawClient(server);
        aws("s3", "mb", "s3://hash-bucket");
        byte[] signed = "the body that was signed".getBytes(StandardCharsets.UTF_8);
        byte[] sent = "the body that was sent!!".getBytes(StandardCharsets.UTF_8);
        java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("host", client.host());
        headers.put("x-amz-content-sha256", dev.citadel.auth.SigV4.sha256Hex(signed));
        java.util.Map<String, String> h = new dev.citadel.auth.SigV4Signer(client.accessKeyId, client.secret, "us-east-1", "s3")
                .signHeaders("PUT", "/hash-bucket/object", "", headers, dev.citadel.auth.SigV4.sha256Hex(signed), java.time.Instant.now());
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("localhost", server.port())) {
            StringBuilder request = new StringBuilder("PUT /hash-bucket/object HTTP/1.1\r\n");
            h.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            request.append("Content-Length: ").append(sent.length).append("\r\n\r\n");
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().write(sent);
            socket.getOutputStream().flush();
            StringBuilder replyText = new StringBuilder();
            byte[] buffer = new byte[4096];
            int n;
            while (replyText.indexOf("</Error>") < 0 && (n = socket.getInputStream().read(buffer)) > 0) {
                replyText.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
            String reply = replyText.toString();
            assertThat(reply).startsWith("HTTP/1.1 400").contains("XAmzContentSHA256Mismatch");
        }
        assertThat(aws("s3", "ls", "s3://hash-bucket/").stdout()).isEmpty();
        aws("s3", "rb", "s3://hash-bucket");
    }

    /**
     * Every upload shape of DESIGN.md §4, sent by hand: a signed SHA-256 with Content-MD5,
     * UNSIGNED-PAYLOAD, aws-chunked with unsigned chunks and a CRC32 trailer, signed chunks, and
     * signed chunks with a signed trailer. Each stores the same bytes; a wrong chunk signature
     * stores nothing.
     */
    @Test
    void everyUploadShapeStoresTheSameBytes() throws Exception {
        RawClient client = new RawClient(server);
        aws("s3", "mb", "s3://shapes");
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 150_000; i++) {
            text.append("line ").append(i).append(" of the upload shapes test\n");
        }
        byte[] data = text.toString().getBytes(StandardCharsets.UTF_8);
        String sha = dev.citadel.auth.SigV4.sha256Hex(data);
        String md5 = java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("MD5").digest(data));
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(data);
        String crc32 = java.util.Base64.getEncoder().encodeToString(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());

        assertThat(rawPut(client, "signed-sha256", Map.of("content-md5", md5, "content-type", "text/plain; charset=UTF-8"), sha, data, null, null)).startsWith("HTTP/1.1 200");
        assertThat(rawPut(client, "unsigned", Map.of(), "UNSIGNED-PAYLOAD", data, null, null)).startsWith("HTTP/1.1 200");
        assertThat(rawPut(client, "unsigned-trailer", Map.of("x-amz-trailer", "x-amz-checksum-crc32"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                data, "x-amz-checksum-crc32:" + crc32, null)).startsWith("HTTP/1.1 200");
        assertThat(rawPut(client, "signed-chunks", Map.of(), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data, null, null)).startsWith("HTTP/1.1 200");
        assertThat(rawPut(client, "signed-chunks-trailer", Map.of("x-amz-trailer", "x-amz-checksum-crc32"),
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", data, "x-amz-checksum-crc32:" + crc32, null)).startsWith("HTTP/1.1 200");
        String refused = rawPut(client, "bad-chunk-signature", Map.of(), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data, null, 1);
        assertThat(refused).startsWith("HTTP/1.1 403").contains("SignatureDoesNotMatch");
        String wrongTrailer = rawPut(client, "bad-trailer", Map.of("x-amz-trailer", "x-amz-checksum-crc32"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                data, "x-amz-checksum-crc32:AAAAAA==", null);
        assertThat(wrongTrailer).startsWith("HTTP/1.1 400").contains("BadDigest");

        Path back = Files.createTempFile("citadel-shape-", ".txt");
        try {
            for (String key : List.of("signed-sha256", "unsigned", "unsigned-trailer", "signed-chunks", "signed-chunks-trailer")) {
                aws("s3", "cp", "s3://shapes/" + key, back.toString());
                assertThat(Files.readAllBytes(back)).as(key).isEqualTo(data);
            }
        } finally {
            Files.deleteIfExists(back);
        }
        assertThat(aws("s3", "ls", "s3://shapes/").stdout()).doesNotContain("bad-");
        aws("s3", "rm", "--recursive", "s3://shapes/");
        aws("s3", "rb", "s3://shapes");
    }

    /**
     * A PUT sent over a raw TLS socket, its body as the content hash names it: as is, or
     * aws-chunked in 64 KiB chunks (signed when the hash says so; chunk {@code corrupt} gets a
     * wrong signature) with an optional trailer line. Returns the whole reply.
     */
    private static String rawPut(RawClient client, String key, Map<String, String> extra, String contentSha256, byte[] data, String trailer,
            Integer corrupt) throws Exception {
        boolean chunked = contentSha256.startsWith("STREAMING-");
        boolean signedChunks = contentSha256.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
        java.time.Instant now = java.time.Instant.now();
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("host", client.host());
        headers.put("x-amz-content-sha256", contentSha256);
        headers.putAll(extra);
        if (chunked) {
            headers.put("content-encoding", "aws-chunked");
            headers.put("x-amz-decoded-content-length", Integer.toString(data.length));
        }
        Map<String, String> signed = new dev.citadel.auth.SigV4Signer(client.accessKeyId, client.secret, "us-east-1", "s3")
                .signHeaders("PUT", "/shapes/" + key, "", headers, contentSha256, now);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        if (!chunked) {
            body.writeBytes(data);
        } else {
            String amzDate = dev.citadel.auth.SigV4.amzDate(now);
            String scope = amzDate.substring(0, 8) + "/us-east-1/s3/aws4_request";
            byte[] signingKey = dev.citadel.auth.SigV4.signingKey(client.secret.revealBytes(), amzDate.substring(0, 8), "us-east-1", "s3");
            String auth = signed.get("Authorization");
            String previous = auth.substring(auth.indexOf("Signature=") + 10);
            int chunk = 0;
            for (int off = 0; ; off += 65536) {
                int n = Math.max(0, Math.min(65536, data.length - off));
                byte[] part = java.util.Arrays.copyOfRange(data, Math.min(off, data.length), Math.min(off, data.length) + n);
                String line = Integer.toHexString(n);
                if (signedChunks) {
                    String sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n" + dev.citadel.auth.SigV4.EMPTY_SHA256
                            + "\n" + dev.citadel.auth.SigV4.sha256Hex(part);
                    String signature = dev.citadel.auth.SigV4.signatureHex(signingKey, sts);
                    if (corrupt != null && corrupt == chunk) {
                        signature = "0".repeat(64);
                    }
                    previous = signature;
                    line += ";chunk-signature=" + signature;
                }
                body.writeBytes((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
                body.writeBytes(part);
                if (n > 0 || trailer == null) {
                    body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                chunk++;
                if (n == 0) {
                    break;
                }
            }
            if (trailer != null) {
                body.writeBytes((trailer + "\r\n").getBytes(StandardCharsets.US_ASCII));
                if (signedChunks) {
                    String sts = "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                            + dev.citadel.auth.SigV4.sha256Hex((trailer + "\n").getBytes(StandardCharsets.ISO_8859_1));
                    body.writeBytes(("x-amz-trailer-signature:" + dev.citadel.auth.SigV4.signatureHex(signingKey, sts) + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                }
                body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("localhost", server.port())) {
            StringBuilder request = new StringBuilder("PUT /shapes/" + key + " HTTP/1.1\r\n");
            signed.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            request.append("Content-Length: ").append(body.size()).append("\r\nConnection: close\r\n\r\n");
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().write(body.toByteArray());
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ClientEnvironment.Result aws(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/aws"));
        cmd.addAll(List.of(args));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), cmd);
        assertThat(r.exitCode()).as("aws %s: %s", String.join(" ", args), r.stderr()).isZero();
        return r;
    }
}
