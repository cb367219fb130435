package dev.citadel.services.cloudtrail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The streaming read of the audit record fields that trail selection uses. */
class TrailDeliveryFieldsTest {
    @Test
    void readsTheSelectionFieldsAndSkipsTheRest() throws Exception {
        String line = "{\"eventVersion\":\"1.11\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/a\","
                + "\"eventSource\":\"nested.amazonaws.com\"},\"eventTime\":\"2026-11-30T01:02:03Z\",\"eventSource\":\"s3.amazonaws.com\","
                + "\"eventName\":\"PutObject\",\"awsRegion\":\"us-east-1\",\"requestParameters\":{\"resources\":[{\"type\":\"x\"}],"
                + "\"readOnly\":true},\"readOnly\":false,\"resources\":[{\"accountId\":\"111122223333\",\"type\":\"AWS::S3::Object\","
                + "\"ARN\":\"arn:aws:s3:::b/k\"},{\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::b\"}],\"managementEvent\":false,"
                + "\"recipientAccountId\":\"111122223333\",\"awsRegionAlias\":null,\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\"}}";
        TrailDelivery.Fields f = TrailDelivery.Fields.of(line);
        assertThat(f.time()).isEqualTo(Instant.parse("2026-11-30T01:02:03Z"));
        assertThat(f.account()).isEqualTo("111122223333");
        assertThat(f.region()).isEqualTo("us-east-1");
        assertThat(f.source()).isEqualTo("s3.amazonaws.com");
        assertThat(f.management()).isFalse();
        assertThat(f.readOnly()).isFalse();
        assertThat(f.resources()).hasSize(2);
        assertThat(f.resources().get(0)).containsExactly("AWS::S3::Object", "arn:aws:s3:::b/k");
    }

    @Test
    void aRecordWithoutATimeOrNotAnObjectIsNotSelectable() {
        assertThatThrownBy(() -> TrailDelivery.Fields.of("{\"eventSource\":\"s3.amazonaws.com\"}")).isInstanceOf(Exception.class);
        assertThatThrownBy(() -> TrailDelivery.Fields.of("[1,2]")).isInstanceOf(Exception.class);
        assertThatThrownBy(() -> TrailDelivery.Fields.of("{\"eventTime\":\"2026-11-30T01:02:03Z\",")).isInstanceOf(Exception.class);
    }
}
