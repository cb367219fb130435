package dev.citadel.services.s3;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.s3.S3Repository;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Fuzz targets for the XML bodies S3 accepts (DeleteObjects, CompleteMultipartUpload, tagging,
 * versioning, default encryption), the x-amz-tagging header and the conditional request headers.
 * Corpus: {@code src/test/resources/dev/citadel/services/s3/S3BodiesFuzzTestInputs/<method>/}. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=S3BodiesFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Each parser either returns values that hold S3's
 * limits or refuses with one of S3's client errors; nothing else escapes.
 */
class S3BodiesFuzzTest {
    private static final Set<String> CODES = Set.of("MalformedXML", "InvalidTag", "BadRequest", "InvalidArgument", "NotImplemented");

    private static void refusedAsS3Does(AwsException e) {
        if (!CODES.contains(e.code()) || e.httpStatus() >= 500 && !e.code().equals("NotImplemented")) {
            throw e;
        }
    }

    @FuzzTest(maxDuration = "20s")
    void deleteObjects(byte[] body) {
        try {
            S3Bodies.DeleteRequest r = S3Bodies.delete(body);
            if (r.objects().isEmpty() || r.objects().size() > 1000) {
                throw new AssertionError("a delete request of " + r.objects().size() + " objects");
            }
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void completeMultipartUpload(byte[] body) {
        try {
            var parts = S3Bodies.completedParts(body);
            if (parts.isEmpty() || parts.size() > 10_000 || parts.stream().anyMatch(p -> p.etag().contains("\""))) {
                throw new AssertionError("parts accepted: " + parts.size());
            }
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void tagging(byte[] body) {
        try {
            Map<String, String> tags = S3Bodies.tagging(body, S3Bodies.MAX_BUCKET_TAGS);
            checkTags(tags, S3Bodies.MAX_BUCKET_TAGS);
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void taggingHeader(FuzzedDataProvider data) {
        try {
            checkTags(S3Bodies.taggingHeader(data.consumeRemainingAsString()), S3Bodies.MAX_OBJECT_TAGS);
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    private static void checkTags(Map<String, String> tags, int limit) {
        if (tags.size() > limit || tags.keySet().stream().anyMatch(k -> k.isEmpty() || k.startsWith("aws:"))) {
            throw new AssertionError("tags accepted: " + tags.keySet());
        }
    }

    @FuzzTest(maxDuration = "20s")
    void versioning(byte[] body) {
        try {
            String status = S3Bodies.versioning(body);
            if (!status.equals("Enabled") && !status.equals("Suspended")) {
                throw new AssertionError("status accepted: " + status);
            }
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void encryption(byte[] body) {
        try {
            S3Bodies.DefaultEncryption e = S3Bodies.encryption(body);
            if (!e.algorithm().equals("AES256") && !e.algorithm().equals("aws:kms") || e.algorithm().equals("AES256") && e.kmsKeyId().isPresent()) {
                throw new AssertionError("rule accepted: " + e);
            }
        } catch (AwsException e) {
            refusedAsS3Does(e);
        }
    }

    @FuzzTest(maxDuration = "20s")
    void conditionalHeaders(FuzzedDataProvider data) {
        ObjectNode input = JsonNodeFactory.instance.objectNode();
        ObjectNode headers = input.putObject("headers");
        for (String name : new String[] {"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"}) {
            if (data.consumeBoolean()) {
                headers.put(name, data.consumeString(80));
            }
        }
        S3Repository.S3Object o = new S3Repository.S3Object("b", "k", "null", "00000000000000000000000000000000", 1,
                "0123456789abcdef0123456789abcdef", "", "binary/octet-stream", "{}", "{}",
                new S3Repository.Encryption("arn:aws:kms:us-east-1:111122223333:key/k", "AES256", false), Optional.empty(),
                Instant.ofEpochSecond(data.consumeLong(0, 4_000_000_000L)));
        try {
            S3Service.preconditionsHold(input, o, new java.util.HashMap<>());
        } catch (AwsException e) {
            if (!e.code().equals("PreconditionFailed")) {
                throw e;
            }
        }
    }
}
