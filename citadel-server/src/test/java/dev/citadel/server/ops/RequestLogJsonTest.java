package dev.citadel.server.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.citadel.auth.HttpRequestView;
import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Parser;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.AccountId;
import dev.citadel.core.SecretBytes;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.OperationRegistry;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestAuthenticator;
import dev.citadel.pipeline.RequestLogContext;
import dev.citadel.pipeline.RequestMetrics;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.pipeline.audit.AuditEvent;
import dev.citadel.pipeline.audit.AuditSink;
import dev.citadel.pipeline.audit.SensitiveData;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.protocol.ProtocolAdapters;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * With log.format = json, a line logged while the pipeline handles a request is one JSON object
 * whose mdc names the request (the id its answer carries), its service, operation and account,
 * and nothing else; after the request the thread's MDC is as it was.
 */
class RequestLogJsonTest {
    private static final String LOGGER = "dev.citadel.test.handler";
    private static final ServiceDefinition SERVICE = new ServiceDefinition("test", "test", "test", Protocol.AWS_JSON_1_1, "TestService",
            "2020-01-01", "", "test.amazonaws.com", false);
    private static final AccountId ACCOUNT = new AccountId("123456789012");
    private static final Principal CALLER = new Principal("IAMUser", ACCOUNT, "AIDAEXAMPLEEXAMPLE01", "arn:aws:iam::123456789012:user/alice",
            "alice", "AKIAEXAMPLEEXAMPLE01");
    private static final SecretBytes SECRET = SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<AuditEvent> audited = new ArrayList<>();
    private OutputStreamAppender<ILoggingEvent> appender;
    private ch.qos.logback.classic.Logger logger;

    @BeforeEach
    void captureJson() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setEncoder(ConsoleLog.jsonEncoder(context));
        appender.setOutputStream(out);
        appender.start();
        logger = context.getLogger(LOGGER);
        logger.setLevel(Level.INFO);
        logger.setAdditive(false);
        logger.addAppender(appender);
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
        appender.stop();
        MDC.clear();
    }

    private RequestPipeline pipeline() {
        OperationSpec ping = OperationSpec.builder("test", "Ping").resources(ResourceResolver.ALL).build();
        OperationSpec nested = OperationSpec.builder("test", "Nested").resources(ResourceResolver.ALL).build();
        OperationRegistry registry = new OperationRegistry().service(SERVICE);
        RequestPipeline[] self = new RequestPipeline[1];
        registry.register(Operation.of(ping, (ctx, input) -> {
            LoggerFactory.getLogger(LOGGER).info("handling {}", ctx.operation().name());
            return JsonNodeFactory.instance.objectNode();
        }));
        registry.register(Operation.of(nested, (ctx, input) -> {
            self[0].invokeAs(CALLER, "test", "Ping", JsonNodeFactory.instance.objectNode(), "sagemaker.amazonaws.com");
            LoggerFactory.getLogger(LOGGER).info("after the nested call");
            return JsonNodeFactory.instance.objectNode();
        }));
        registry.freeze();
        RequestAuthenticator authenticator = new RequestAuthenticator() {
            @Override
            public Scope scope(IncomingRequest request) {
                HttpRequestView view = new HttpRequestView(request.method(), request.rawPath(), request.rawQuery(), request.headers());
                return new Scope(view, SigV4Parser.parse(view));
            }

            @Override
            public Authenticated authenticate(Scope scope, byte[] body, boolean s3) {
                return new Authenticated(CALLER, body);
            }

            @Override
            public StreamingAuthenticated authenticateStreaming(Scope scope, java.io.InputStream body, boolean s3) {
                throw new UnsupportedOperationException();
            }
        };
        AuditSink audit = new AuditSink() {
            @Override
            public void record(AuditEvent event) {
                audited.add(event);
            }

            @Override
            public void close() {
            }
        };
        self[0] = new RequestPipeline("us-east-1", registry, authenticator, request -> AuthorizationDecision.allow(), audit,
                ProtocolAdapters.all(), 1 << 20, Clock.systemUTC(), SensitiveData.Mode.WARN, null, null, RequestMetrics.NONE);
        return self[0];
    }

    private static IncomingRequest signed(String operation) {
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("host", "localhost:8443");
        headers.put("content-type", "application/x-amz-json-1.1");
        headers.put("x-amz-target", "TestService." + operation);
        Map<String, String> signed = new SigV4Signer(CALLER.accessKeyId(), SECRET, "us-east-1", "test")
                .signHeaders("POST", "/", "", headers, SigV4.sha256Hex(body), Instant.now());
        Map<String, List<String>> lower = new LinkedHashMap<>();
        signed.forEach((k, v) -> lower.put(k.toLowerCase(java.util.Locale.ROOT), List.of(v)));
        return new IncomingRequest("POST", "/", "", lower, new ByteArrayInputStream(body), body.length,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""));
    }

    private List<JsonNode> lines() throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(new ObjectMapper().readTree(line));
            }
        }
        return lines;
    }

    @Test
    void aLineLoggedDuringARequestCarriesItsRequestIdServiceOperationAndAccount() throws Exception {
        EncodedResponse response = pipeline().handle(signed("Ping"));
        assertThat(response.status()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        String requestId = response.headers().get("x-amzn-RequestId");
        assertThat(requestId).isNotBlank();

        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(1);
        JsonNode line = lines.getFirst();
        assertThat(line.path("level").asText()).isEqualTo("INFO");
        assertThat(line.path("loggerName").asText()).isEqualTo(LOGGER);
        assertThat(line.path("formattedMessage").asText()).isEqualTo("handling Ping");
        JsonNode mdc = line.path("mdc");
        assertThat(mdc.path(RequestLogContext.REQUEST_ID).asText()).isEqualTo(requestId).isEqualTo(audited.getFirst().requestId());
        assertThat(mdc.path(RequestLogContext.SERVICE).asText()).isEqualTo("test");
        assertThat(mdc.path(RequestLogContext.OPERATION).asText()).isEqualTo("Ping");
        assertThat(mdc.path(RequestLogContext.ACCOUNT_ID).asText()).isEqualTo("123456789012");
        List<String> keys = new ArrayList<>();
        mdc.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactlyInAnyOrder("requestId", "service", "operation", "accountId");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain(SECRET.revealUtf8()).doesNotContain("Signature=");
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    }

    @Test
    void aCallMadeAsARoleInsideARequestHasItsOwnIdAndGivesTheOuterOneBack() throws Exception {
        EncodedResponse response = pipeline().handle(signed("Nested"));
        assertThat(response.status()).isEqualTo(200);
        List<JsonNode> lines = lines();
        assertThat(lines).hasSize(2);
        String inner = lines.get(0).path("mdc").path(RequestLogContext.REQUEST_ID).asText();
        String outer = lines.get(1).path("mdc").path(RequestLogContext.REQUEST_ID).asText();
        assertThat(outer).isEqualTo(response.headers().get("x-amzn-RequestId"));
        assertThat(inner).isNotBlank().isNotEqualTo(outer);
        assertThat(lines.get(0).path("mdc").path(RequestLogContext.OPERATION).asText()).isEqualTo("Ping");
        assertThat(lines.get(1).path("mdc").path(RequestLogContext.OPERATION).asText()).isEqualTo("Nested");
        assertThat(MDC.getCopyOfContextMap()).isNullOrEmpty();
    }
}
