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
 * handler that reads the body and returns a fixed response (GetCallerIdentity's, or the object of
 * the S3 GET benchmark), doing no authentication, authorization, audit or decoding.
 */
final class BareJetty {
    static final String RESPONSE = """
            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/admin</Arn><UserId>AIDAEXAMPLEEXAMPLE12</UserId><Account>123456789012</Account></GetCallerIdentityResult>
              <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
            </GetCallerIdentityResponse>
            """;

    private BareJetty() {
    }

    static ApiServer start(SslContextFactory.Server tls) throws Exception {
        return start(tls, RESPONSE.getBytes(StandardCharsets.UTF_8), "text/xml");
    }

    static ApiServer start(SslContextFactory.Server tls, byte[] body, String contentType) throws Exception {
        Handler handler = new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Content.Source.asInputStream(request).readAllBytes();
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
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
