package dev.citadel.bench;

import dev.citadel.server.config.HttpLimits;
import dev.citadel.server.http.ApiServer;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The limit: Citadel's own listener (same TLS policy, same limits, same thread pool) with a
 * handler that reads the body and returns a fixed response of the operation's shape
 * (GetCallerIdentity's, KMS Encrypt's, DescribeTrainingJob's, the object of the S3 GET benchmark, or
 * an S3 PUT's ETag), doing no authentication, authorization, audit or decoding.
 */
final class BareJetty {
    static final String RESPONSE = """
            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/admin</Arn><UserId>AIDAEXAMPLEEXAMPLE12</UserId><Account>123456789012</Account></GetCallerIdentityResult>
              <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
            </GetCallerIdentityResponse>
            """;

    /** An Encrypt answer of the size Citadel's is for 1 KiB (a ciphertext blob of about 1.2 KiB, base64). */
    static final byte[] KMS_RESPONSE = ("{\"CiphertextBlob\":\"" + java.util.Base64.getEncoder().encodeToString(new byte[1200])
            + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"KeyId\":\"arn:aws:kms:us-east-1:123456789012:key/"
            + "00000000-0000-0000-0000-000000000000\"}").getBytes(StandardCharsets.UTF_8);
    /** A DescribeTrainingJob answer of a failed job, about the size of Citadel's. */
    static final byte[] TRAINING_RESPONSE = ("{\"TrainingJobName\":\"bench-describe\",\"TrainingJobArn\":\"arn:aws:sagemaker:us-east-1:"
            + "123456789012:training-job/bench-describe\",\"TrainingJobStatus\":\"Failed\",\"SecondaryStatus\":\"Failed\","
            + "\"FailureReason\":\"ClientError: the training image cannot be pulled\",\"AlgorithmSpecification\":{\"TrainingImage\":"
            + "\"localhost:8443/bench:latest\",\"TrainingInputMode\":\"File\"},\"RoleArn\":\"arn:aws:iam::123456789012:role/bench\","
            + "\"OutputDataConfig\":{\"S3OutputPath\":\"s3://bench/out\"},\"ResourceConfig\":{\"InstanceType\":\"ml.m5.large\","
            + "\"InstanceCount\":1,\"VolumeSizeInGB\":1},\"StoppingCondition\":{\"MaxRuntimeInSeconds\":60},\"CreationTime\":"
            + "1764500000.0,\"LastModifiedTime\":1764500001.0,\"SecondaryStatusTransitions\":[]}").getBytes(StandardCharsets.UTF_8);

    private BareJetty() {
    }

    static ApiServer start(SslContextFactory.Server tls) throws Exception {
        return start(tls, RESPONSE.getBytes(StandardCharsets.UTF_8), "text/xml", null);
    }

    /** Answers every request with {@code body}; {@code etag}, when not null, as the ETag header. */
    static ApiServer start(SslContextFactory.Server tls, byte[] body, String contentType, String etag) throws Exception {
        Handler handler = new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Content.Source.asInputStream(request).readAllBytes();
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                if (etag != null) {
                    response.getHeaders().put(HttpHeader.ETAG, etag);
                }
                response.write(true, ByteBuffer.wrap(body), callback);
                return true;
            }
        };
        ApiServer server = new ApiServer(new InetSocketAddress("127.0.0.1", 0),
                new HttpLimits(16384, 10 << 20, Duration.ofSeconds(30), 1024, 200), tls, handler);
        server.start();
        return server;
    }
}
