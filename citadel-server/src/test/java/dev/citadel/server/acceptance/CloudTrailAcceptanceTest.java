package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CloudTrail trails with boto3 against a real server (the audit issue, first part: trails; delivery comes next). */
class CloudTrailAcceptanceTest {
    @Test
    void trailsWithBoto3() throws Exception {
        try (TestServer server = TestServer.start()) {
            ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3",
                    ClientEnvironment.resourceFile("/acceptance/boto3_cloudtrail.py").toString()));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode out = new ObjectMapper().readTree(r.stdout());
            assertThat(out.path("no_bucket").asText()).startsWith("S3BucketDoesNotExistException");
            assertThat(out.path("no_policy").asText()).startsWith("InsufficientS3BucketPolicyException");
            assertThat(out.path("bad_name").asText()).startsWith("InvalidTrailNameException");
            assertThat(out.path("wrong_prefix").asText()).startsWith("InsufficientS3BucketPolicyException");
            assertThat(out.path("created").toString()).isEqualTo("[true,\"audit\",true]");
            assertThat(out.path("duplicate").asText()).startsWith("TrailAlreadyExistsException");
            assertThat(out.path("get").asText()).isEqualTo("us-east-1");
            assertThat(out.path("foreign_arn").asText()).startsWith("TrailNotFoundException");
            assertThat(out.path("described").toString()).isEqualTo("[\"citadel-operator\",\"management\"]");
            assertThat(out.path("status_before").asBoolean()).isFalse();
            assertThat(out.path("status_started").toString()).isEqualTo("[true,true]");
            assertThat(out.path("status_stopped").toString()).isEqualTo("[false,true]");
            assertThat(out.path("default_selectors").asText()).isEqualTo("All");
            assertThat(out.path("selectors").toString()).isEqualTo("[\"arn:aws:s3:::training-data/\"]");
            assertThat(out.path("bad_selector").asText()).startsWith("InvalidEventSelectorsException");
            assertThat(out.path("bad_data_resource").asText()).startsWith("InvalidEventSelectorsException");
            assertThat(out.path("selectors_unchanged").asText()).isEqualTo("WriteOnly");
            assertThat(out.path("updated").asBoolean()).isFalse();
            assertThat(out.path("sns_refused").asText()).startsWith("UnsupportedOperationException");
            assertThat(out.path("deleted").asText()).startsWith("TrailNotFoundException");
            assertThat(out.path("delete_missing").asText()).startsWith("TrailNotFoundException");
            // event history
            assertThat(out.path("refused_call").asText()).startsWith("AccessDenied");
            assertThat(out.path("malformed_call").asText()).startsWith("InvalidClientTokenId");
            assertThat(out.path("lookup_refused").toString()).isEqualTo("[[\"ListBuckets\",\"AccessDenied\"]]");
            assertThat(out.path("lookup_malformed").toString()).contains("\"InvalidClientTokenId\"");
            assertThat(out.path("lookup_create_trail").toString())
                    .isEqualTo("[6,[\"InsufficientS3BucketPolicyException\",\"InvalidTrailNameException\",\"S3BucketDoesNotExistException\","
                            + "\"TrailAlreadyExistsException\",\"ok\"]]");
            assertThat(out.path("lookup_by_resource").toString()).contains("\"CreateTrail\"", "\"StartLogging\"", "\"DeleteTrail\"");
            assertThat(out.path("lookup_paged").toString()).isEqualTo("[2,2,2]");
            assertThat(out.path("lookup_paged_distinct").asInt()).isEqualTo(6);
            assertThat(out.path("lookup_two_attributes").asText()).startsWith("InvalidLookupAttributesException");
            assertThat(out.path("lookup_bad_range").asText()).startsWith("InvalidTimeRangeException");
            assertThat(out.path("lookup_future_empty").asInt()).isZero();
            assertThat(out.path("public_keys").asInt()).isEqualTo(1);
            assertThat(out.path("public_key_pkcs1").asInt()).isEqualTo(2048);
            assertThat(out.path("public_key_fingerprint").asBoolean()).isTrue();
            assertThat(out.path("public_keys_stable").asBoolean()).isTrue();
        }
    }
}
