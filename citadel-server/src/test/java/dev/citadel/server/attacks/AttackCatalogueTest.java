package dev.citadel.server.attacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.Citadel;
import dev.citadel.server.TestServer;
import dev.citadel.server.attacks.Wire.Identity;
import dev.citadel.server.attacks.Wire.Reply;
import dev.citadel.services.cloudtrail.TrailVerifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The attack catalogue (docs/ATTACKS.md): hostile requests against one running server, each a
 * test of its own that asserts the refusal a real AWS client would see (HTTP status and error
 * code) and that nothing changed: what the attack aims at is read before and after and must be
 * identical, and a refusal that reached the request pipeline must be on the audit record. The
 * last test checks that the operator trail's signed digest chain, which covers every one of these
 * requests, is still valid.
 */
@Tag("runs-once")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AttackCatalogueTest {
    private static final byte[] NONE = new byte[0];
    private static TestServer server;
    private static World w;
    private static Wire wire;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("audit.delivery-interval=1s", "audit.digest-interval=2s", "http.idle-timeout=2s");
        w = new World(server);
        wire = w.wire;
        w.build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** One attack: what it aims at, how it is refused, and the request. */
    private record Attack(String name, int status, String code, boolean audited, List<Supplier<String>> aims, Supplier<Reply> request) {
    }

    private static Attack attack(String name, int status, String code, List<Supplier<String>> aims, Supplier<Reply> request) {
        return new Attack(name, status, code, code != null, aims, request);
    }

    /** A refusal that the HTTP layer gives before the request pipeline sees anything (so no audit event and no AWS code). */
    private static Attack httpRefusal(String name, int status, List<Supplier<String>> aims, Supplier<Reply> request) {
        return new Attack(name, status, null, false, aims, request);
    }

    private static Stream<DynamicNode> catalogue(String category, Attack... attacks) {
        return Stream.of(dynamicContainer(category, Stream.of(attacks).map(a -> dynamicTest(a.name(), () -> run(a)))));
    }

    private static void run(Attack a) throws IOException {
        List<String> before = a.aims().stream().map(Supplier::get).toList();
        long auditFrom = auditLength();
        Reply r = a.request().get();
        assertThat(r.status()).as("status of %s", r).isEqualTo(a.status());
        if (a.code() != null) {
            assertThat(r.errorCode()).as("error code of %s", r).isEqualTo(a.code());
        }
        List<String> after = a.aims().stream().map(Supplier::get).toList();
        assertThat(after).as("state the attack aims at").isEqualTo(before);
        if (a.audited()) {
            assertThat(auditSince(auditFrom)).as("audit record of the refusal").contains("\"errorCode\":\"" + a.code() + "\"");
        }
    }

    private static Path auditFile() {
        return server.dataDir().resolve("audit/events.jsonl");
    }

    private static long auditLength() throws IOException {
        return java.nio.file.Files.size(auditFile());
    }

    private static String auditSince(long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(auditFile().toFile(), "r")) {
            f.seek(offset);
            byte[] b = new byte[(int) (f.length() - offset)];
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, String> kmsHeaders(String op) {
        return Map.of("content-type", "application/x-amz-json-1.1", "x-amz-target", "TrentService." + op);
    }

    private static Map<String, String> orgHeaders(String op) {
        return Map.of("content-type", "application/x-amz-json-1.1", "x-amz-target", "AWSOrganizationsV20161128." + op);
    }

    private static final Map<String, String> FORM = Map.of("content-type", "application/x-www-form-urlencoded; charset=utf-8");
    private static final String CREATE_USER = "Action=CreateUser&Version=2010-05-08&UserName=intruder";
    private static final String CREATE_ACCOUNT = "{\"AccountName\":\"intruder\",\"Email\":\"intruder@example.com\"}";

    private static Supplier<String> objectState() {
        return w::objectState;
    }

    private static Supplier<String> iamState() {
        return w::iamState;
    }

    private static Supplier<String> orgState() {
        return w::organizationState;
    }

    private static Supplier<String> keyState() {
        return () -> w.keyState(w.keyId);
    }

    private static Supplier<String> repoState(String repo) {
        return () -> w.repositoryState(repo);
    }

    private static Supplier<String> jobsState() {
        return w::jobsState;
    }

    /** Sends {@code signed} headers after {@code change} edits them. */
    private static Reply tampered(String method, String path, String query, Map<String, String> signed, byte[] body,
            java.util.function.Consumer<Map<String, String>> change) {
        Map<String, String> h = new LinkedHashMap<>(signed);
        change.accept(h);
        return wire.send(method, path, query, h, body);
    }

    private static Map<String, String> signAdmin(String service, String method, String path, String query, Map<String, String> headers,
            byte[] body, Instant at) {
        return wire.sign(w.admin, "us-east-1", service, method, path, query, headers, SigV4.sha256Hex(body), at);
    }

    private static String putObjectAs(Identity id, byte[] body) {
        return wire.signed(id, "s3", "PUT", "/" + World.BUCKET + "/" + World.OBJECT, "", Map.of(), body).toString();
    }

    // ------------------------------------------------------------------------------------------------

    @TestFactory
    @Order(1)
    Stream<DynamicNode> signatureTricks() {
        byte[] evil = utf8("overwritten by an attacker\n");
        String objectPath = "/" + World.BUCKET + "/" + World.OBJECT;
        return catalogue("signature tricks",
                attack("S3 PutObject signed with a wrong secret key", 403, "SignatureDoesNotMatch", List.of(objectState()),
                        () -> wire.signed(new Identity("wrong", w.admin.accessKeyId(), SecretBytes.ofUtf8("x".repeat(40)), ""), "s3", "PUT",
                                objectPath, "", Map.of(), evil)),
                attack("IAM CreateUser with one hex digit of the signature changed", 403, "SignatureDoesNotMatch", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.computeIfPresent("Authorization", (k, v) -> {
                        char last = v.charAt(v.length() - 1);
                        return v.substring(0, v.length() - 1) + (last == '0' ? '1' : '0');
                    }));
                }),
                attack("Organizations X-Amz-Target changed after signing (ListAccounts signed, CreateAccount sent)", 400,
                        "InvalidSignatureException", List.of(orgState()), () -> {
                    Map<String, String> h = signAdmin("organizations", "POST", "/", "", orgHeaders("ListAccounts"), utf8(CREATE_ACCOUNT),
                            Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_ACCOUNT), m -> m.put("x-amz-target",
                            "AWSOrganizationsV20161128.CreateAccount"));
                }),
                attack("IAM CreateUser signed for another region's credential scope", 403, "SignatureDoesNotMatch", List.of(iamState()), () -> {
                    Map<String, String> h = wire.sign(w.admin, "eu-west-1", "iam", "POST", "/", "", FORM, SigV4.sha256Hex(utf8(CREATE_USER)),
                            Instant.now());
                    return wire.send("POST", "/", "", h, utf8(CREATE_USER));
                }),
                attack("Credential scope date that is not the X-Amz-Date's day", 400, "IncompleteSignature", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.computeIfPresent("Authorization",
                            (k, v) -> v.replaceFirst("/(\\d{8})/", "/20200101/")));
                }),
                attack("Signature algorithm AWS4-HMAC-SHA1 instead of AWS4-HMAC-SHA256", 400, "IncompleteSignature", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.computeIfPresent("Authorization",
                            (k, v) -> v.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")));
                }),
                attack("Authorization header without its Signature component", 400, "IncompleteSignature", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.computeIfPresent("Authorization",
                            (k, v) -> v.substring(0, v.indexOf(", Signature="))));
                }),
                attack("Signed headers that leave out host", 400, "IncompleteSignature", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.computeIfPresent("Authorization",
                            (k, v) -> v.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;")));
                }),
                attack("S3 signature version 2 (Authorization: AWS key:signature) on PutObject", 400, "InvalidRequest", List.of(objectState()),
                        () -> wire.send("PUT", objectPath, "", Map.of("authorization", "AWS " + w.admin.accessKeyId() + ":c2lnbmF0dXJl",
                                "date", "Mon, 30 Nov 2026 12:00:00 GMT"), evil)),
                attack("Header signature and presigned query together on one request", 400, "InvalidArgument", List.of(objectState()), () -> {
                    String q = new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3")
                            .presignQuery("PUT", objectPath, "", wire.host(), 300, Instant.now());
                    Map<String, String> h = signAdmin("s3", "PUT", objectPath, q, Map.of(), evil, Instant.now());
                    return wire.send("PUT", objectPath, q, h, evil);
                }),
                attack("UNSIGNED-PAYLOAD claimed on a KMS request (only S3 may)", 400, "InvalidSignatureException", List.of(keyState()), () -> {
                    byte[] body = utf8("{\"KeyId\":\"" + w.keyId + "\",\"PendingWindowInDays\":7}");
                    Map<String, String> headers = new LinkedHashMap<>(kmsHeaders("ScheduleKeyDeletion"));
                    headers.put("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
                    Map<String, String> h = wire.sign(w.admin, "us-east-1", "kms", "POST", "/", "", headers, "UNSIGNED-PAYLOAD", Instant.now());
                    return wire.send("POST", "/", "", h, body);
                }),
                attack("S3 PutObject whose x-amz-content-sha256 is the hash of another body", 400, "XAmzContentSHA256Mismatch",
                        List.of(objectState()), () -> {
                    Map<String, String> h = signAdmin("s3", "PUT", objectPath, "", Map.of(), World.OBJECT_BYTES, Instant.now());
                    return wire.send("PUT", objectPath, "", h, evil);
                }),
                attack("Presigned GetObject URL used to PUT", 403, "SignatureDoesNotMatch", List.of(objectState()), () -> {
                    String q = new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3")
                            .presignQuery("GET", objectPath, "", wire.host(), 300, Instant.now());
                    return wire.send("PUT", objectPath, q, Map.of(), evil);
                }),
                attack("Presigned URL with X-Amz-Expires raised after signing", 403, "SignatureDoesNotMatch", List.of(objectState()), () -> {
                    String q = new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3")
                            .presignQuery("PUT", objectPath, "", wire.host(), 60, Instant.now());
                    return wire.send("PUT", objectPath, q.replace("X-Amz-Expires=60", "X-Amz-Expires=604800"), Map.of(), evil);
                }),
                attack("Presigned PUT URL with a query parameter added after signing (x-amz-acl)", 403, "SignatureDoesNotMatch",
                        List.of(objectState()), () -> {
                    String q = new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3")
                            .presignQuery("PUT", objectPath, "", wire.host(), 300, Instant.now());
                    return wire.send("PUT", objectPath, q + "&x-amz-acl=public-read-write", Map.of(), evil);
                }),
                attack("Access key of a deactivated key", 403, "InvalidClientTokenId", List.of(iamState()), () -> {
                    Reply k = World.ok(wire.iam(w.admin, "CreateAccessKey", "UserName", "victim"));
                    Identity victim = new Identity("victim", k.xml("AccessKeyId"), SecretBytes.ofUtf8(k.xml("SecretAccessKey")), "");
                    World.ok(wire.iam(w.admin, "UpdateAccessKey", "UserName", "victim", "AccessKeyId", victim.accessKeyId(), "Status", "Inactive"));
                    Reply r = wire.iam(victim, "CreateUser", "UserName", "intruder");
                    World.ok(wire.iam(w.admin, "DeleteAccessKey", "UserName", "victim", "AccessKeyId", victim.accessKeyId()));
                    return r;
                }),
                attack("Access key deleted a moment ago", 403, "InvalidClientTokenId", List.of(iamState()), () -> {
                    Reply k = World.ok(wire.iam(w.admin, "CreateAccessKey", "UserName", "victim"));
                    Identity victim = new Identity("victim", k.xml("AccessKeyId"), SecretBytes.ofUtf8(k.xml("SecretAccessKey")), "");
                    World.ok(wire.iam(w.admin, "DeleteAccessKey", "UserName", "victim", "AccessKeyId", victim.accessKeyId()));
                    return wire.iam(victim, "CreateUser", "UserName", "intruder");
                }),
                attack("Temporary access key sent without its session token", 403, "InvalidClientTokenId", List.of(iamState()),
                        () -> wire.iam(w.member.withoutToken(), "CreateUser", "UserName", "intruder")),
                attack("One session's token with another session's access key", 403, "InvalidClientTokenId", List.of(iamState()),
                        () -> wire.iam(new Identity("swap", w.member.accessKeyId(), w.member.secret(), w.mallorySession.sessionToken()),
                                "CreateUser", "UserName", "intruder")),
                attack("Session token with one byte changed", 403, "InvalidClientTokenId", List.of(iamState()), () -> {
                    String t = w.member.sessionToken();
                    int i = t.length() / 2;
                    String changed = t.substring(0, i) + (t.charAt(i) == 'A' ? 'B' : 'A') + t.substring(i + 1);
                    return wire.iam(new Identity("changed", w.member.accessKeyId(), w.member.secret(), changed), "CreateUser", "UserName",
                            "intruder");
                }));
    }

    @TestFactory
    @Order(2)
    Stream<DynamicNode> replayAndSkew() {
        byte[] evil = utf8("replayed\n");
        String objectPath = "/" + World.BUCKET + "/" + World.OBJECT;
        return catalogue("replay and skew",
                attack("IAM CreateUser signed 20 minutes ago", 403, "SignatureDoesNotMatch", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now().minus(Duration.ofMinutes(20)));
                    return wire.send("POST", "/", "", h, utf8(CREATE_USER));
                }),
                attack("S3 PutObject signed 20 minutes in the future", 403, "RequestTimeTooSkewed", List.of(objectState()), () -> {
                    Map<String, String> h = signAdmin("s3", "PUT", objectPath, "", Map.of(), evil, Instant.now().plus(Duration.ofMinutes(20)));
                    return wire.send("PUT", objectPath, "", h, evil);
                }),
                attack("KMS ScheduleKeyDeletion signed 16 minutes ago", 400, "InvalidSignatureException", List.of(keyState()), () -> {
                    byte[] body = utf8("{\"KeyId\":\"" + w.keyId + "\",\"PendingWindowInDays\":7}");
                    Map<String, String> h = signAdmin("kms", "POST", "/", "", kmsHeaders("ScheduleKeyDeletion"), body,
                            Instant.now().minus(Duration.ofMinutes(16)));
                    return wire.send("POST", "/", "", h, body);
                }),
                attack("Captured request replayed with X-Amz-Date moved to now", 403, "SignatureDoesNotMatch", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now().minus(Duration.ofMinutes(20)));
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.put("X-Amz-Date", SigV4.amzDate(Instant.now())));
                }),
                attack("Captured S3 PutObject replayed with another body", 400, "XAmzContentSHA256Mismatch", List.of(objectState()), () -> {
                    Map<String, String> h = signAdmin("s3", "PUT", objectPath, "", Map.of(), World.OBJECT_BYTES, Instant.now());
                    return wire.send("PUT", objectPath, "", h, evil);
                }),
                attack("Presigned PUT URL after it expired", 403, "AccessDenied", List.of(objectState()), () -> wire.send("PUT", objectPath,
                        new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3").presignQuery("PUT", objectPath, "", wire.host(),
                                60, Instant.now().minus(Duration.ofMinutes(5))), Map.of(), evil)),
                attack("Presigned PUT URL dated 20 minutes in the future", 403, "AccessDenied", List.of(objectState()), () -> wire.send("PUT",
                        objectPath, new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3").presignQuery("PUT", objectPath, "",
                                wire.host(), 60, Instant.now().plus(Duration.ofMinutes(20))), Map.of(), evil)),
                attack("Presigned URL valid for more than seven days", 400, "AuthorizationQueryParametersError", List.of(objectState()),
                        () -> wire.send("PUT", objectPath, new SigV4Signer(w.admin.accessKeyId(), w.admin.secret(), "us-east-1", "s3")
                                .presignQuery("PUT", objectPath, "", wire.host(), 604_801, Instant.now()), Map.of(), evil)),
                attack("Malformed X-Amz-Date", 400, "IncompleteSignature", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    return tampered("POST", "/", "", h, utf8(CREATE_USER), m -> m.put("X-Amz-Date", "yesterday"));
                }));
    }

    @TestFactory
    @Order(3)
    Stream<DynamicNode> headerSmuggling() {
        String bodyText = "Action=GetCallerIdentity&Version=2011-06-15";
        return catalogue("header smuggling",
                httpRefusal("Content-Length and Transfer-Encoding: chunked together", 400, List.of(orgState()),
                        () -> rawOrg("Transfer-Encoding: chunked\r\n", CREATE_ACCOUNT)),
                httpRefusal("Two Content-Length headers that differ", 400, List.of(orgState()),
                        () -> rawOrg("Content-Length: 3\r\n", CREATE_ACCOUNT)),
                httpRefusal("Obsolete line folding in a header", 400, List.of(orgState()),
                        () -> rawOrg("X-Amz-Target: AWSOrganizationsV20161128.ListAccounts\r\n  AWSOrganizationsV20161128.CreateAccount\r\n",
                                CREATE_ACCOUNT)),
                httpRefusal("Whitespace between a header name and its colon", 400, List.of(orgState()),
                        () -> rawOrg("Transfer-Encoding : chunked\r\n", CREATE_ACCOUNT)),
                httpRefusal("Two Host headers", 400, List.of(orgState()), () -> rawOrg("Host: evil.example\r\n", CREATE_ACCOUNT)),
                httpRefusal("Unknown transfer coding (Transfer-Encoding: xchunked)", 400, List.of(orgState()), () -> {
                    String head = "POST / HTTP/1.1\r\nHost: " + wire.host() + "\r\nTransfer-Encoding: xchunked\r\nConnection: close\r\n\r\n";
                    return wire.raw(utf8(head + "5\r\nhello\r\n0\r\n\r\n"));
                }),
                httpRefusal("Signed request whose chunked body has an invalid chunk size", 400, List.of(orgState()), () -> {
                    Map<String, String> h = signAdmin("organizations", "POST", "/", "", orgHeaders("CreateAccount"), utf8(CREATE_ACCOUNT),
                            Instant.now());
                    StringBuilder head = new StringBuilder("POST / HTTP/1.1\r\n");
                    h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
                    head.append("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n").append(CREATE_ACCOUNT).append("\r\n0\r\n\r\n");
                    return wire.raw(utf8(head.toString()));
                }),
                attack("An unsigned request smuggled after a signed one's declared length", 403, "MissingAuthenticationTokenException",
                        List.of(orgState()), () -> smuggled(bodyText)),
                attack("A second X-Amz-Target header added after signing", 400, "InvalidSignatureException", List.of(orgState()), () -> {
                    Map<String, String> h = signAdmin("organizations", "POST", "/", "", orgHeaders("ListAccounts"), utf8(CREATE_ACCOUNT),
                            Instant.now());
                    StringBuilder head = new StringBuilder("POST / HTTP/1.1\r\n");
                    h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
                    head.append("X-Amz-Target: AWSOrganizationsV20161128.CreateAccount\r\nContent-Length: ").append(CREATE_ACCOUNT.length())
                            .append("\r\nConnection: close\r\n\r\n").append(CREATE_ACCOUNT);
                    return wire.raw(utf8(head.toString()));
                }),
                attack("A second X-Amz-Date header added after signing", 403, "SignatureDoesNotMatch", List.of(iamState()), () -> {
                    Map<String, String> h = signAdmin("iam", "POST", "/", "", FORM, utf8(CREATE_USER), Instant.now());
                    StringBuilder head = new StringBuilder("POST / HTTP/1.1\r\n");
                    h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
                    head.append("X-Amz-Date: 20200101T000000Z\r\nContent-Length: ").append(CREATE_USER.length())
                            .append("\r\nConnection: close\r\n\r\n").append(CREATE_USER);
                    return wire.raw(utf8(head.toString()));
                }),
                httpRefusal("A NUL byte in a header value", 400, List.of(orgState()), () -> rawOrg("X-Evil: a\u0000b\r\n", CREATE_ACCOUNT)),
                attack("Absolute-form request target naming another host", 400, "InvalidSignatureException", List.of(orgState()), () -> {
                    Map<String, String> h = signAdmin("organizations", "POST", "/", "", orgHeaders("CreateAccount"), utf8(CREATE_ACCOUNT),
                            Instant.now());
                    StringBuilder head = new StringBuilder("POST https://evil.example/ HTTP/1.1\r\n");
                    h.forEach((k, v) -> head.append(k.equalsIgnoreCase("host") ? "Host" : k).append(": ")
                            .append(k.equalsIgnoreCase("host") ? "evil.example" : v).append("\r\n"));
                    head.append("Content-Length: ").append(CREATE_ACCOUNT.length()).append("\r\nConnection: close\r\n\r\n").append(CREATE_ACCOUNT);
                    return wire.raw(utf8(head.toString()));
                }));
    }

    /** A signed-looking Organizations CreateAccount with one extra raw header line. */
    private static Reply rawOrg(String extra, String body) {
        Map<String, String> h = signAdmin("organizations", "POST", "/", "", orgHeaders("CreateAccount"), utf8(body), Instant.now());
        StringBuilder head = new StringBuilder("POST / HTTP/1.1\r\n");
        h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append(extra).append("Content-Length: ").append(body.length()).append("\r\nConnection: close\r\n\r\n").append(body);
        return wire.raw(utf8(head.toString()));
    }

    /** A signed GetCallerIdentity whose body is followed by an unsigned CreateAccount on the same connection; returns the second answer. */
    private static Reply smuggled(String bodyText) {
        Map<String, String> h = wire.sign(w.admin, "us-east-1", "sts", "POST", "/", "", FORM, SigV4.sha256Hex(utf8(bodyText)), Instant.now());
        StringBuilder first = new StringBuilder("POST / HTTP/1.1\r\n");
        h.forEach((k, v) -> first.append(k).append(": ").append(v).append("\r\n"));
        first.append("Content-Length: ").append(bodyText.length()).append("\r\n\r\n").append(bodyText);
        String second = "POST / HTTP/1.1\r\nHost: " + wire.host() + "\r\nContent-Type: application/x-amz-json-1.1\r\n"
                + "X-Amz-Target: AWSOrganizationsV20161128.CreateAccount\r\nContent-Length: " + CREATE_ACCOUNT.length()
                + "\r\nConnection: close\r\n\r\n" + CREATE_ACCOUNT;
        try (SSLSocket s = wire.connect()) {
            s.getOutputStream().write(utf8(first + second));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            Reply one = Wire.read(in);
            assertThat(one.status()).as("the signed request itself").isEqualTo(200);
            return Wire.read(in);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @TestFactory
    @Order(4)
    Stream<DynamicNode> pathTraversal() {
        String auth = w.registryAuth;
        Supplier<String> repo = repoState(World.REPO);
        return catalogue("path traversal in keys and image names",
                attack("Object key that climbs out of the member's bucket into the victim's", 404, "NoSuchKey", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "GET", "/" + World.MEMBER_BUCKET + "/../" + World.BUCKET + "/" + World.OBJECT, "", Map.of(),
                                NONE)),
                attack("Percent-encoded ../ in the object key of a GetObject", 404, "NoSuchKey", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "GET", "/" + World.MEMBER_BUCKET + "/%2E%2E%2F" + World.BUCKET + "%2F" + World.OBJECT, "",
                                Map.of(), NONE)),
                attack("Bucket name that is a percent-encoded traversal", 400, "InvalidBucketName", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "PUT", "/..%2F" + World.BUCKET + "/" + World.OBJECT, "", Map.of(), utf8("x"))),
                attack("CopyObject whose source climbs from the member's bucket into the victim's", 404, "NoSuchKey",
                        List.of(objectState(), () -> w.bucketState(World.MEMBER_BUCKET)),
                        () -> wire.signed(w.member, "s3", "PUT", "/" + World.MEMBER_BUCKET + "/stolen", "", Map.of("x-amz-copy-source",
                                "/" + World.MEMBER_BUCKET + "/../" + World.BUCKET + "/" + World.OBJECT), NONE)),
                attack("Object key over 1024 bytes", 400, "KeyTooLongError", List.of(() -> w.bucketState(World.MEMBER_BUCKET)),
                        () -> wire.signed(w.member, "s3", "PUT", "/" + World.MEMBER_BUCKET + "/" + "k".repeat(1025), "", Map.of(), utf8("x"))),
                attack("Registry repository name with ../ segments", 400, "NAME_INVALID", List.of(repo),
                        () -> w.registry(auth, "GET", "/v2/" + World.REPO + "/../../etc/manifests/v1", "", Map.of(), NONE)),
                attack("Registry repository name with percent-encoded dots", 400, "NAME_INVALID", List.of(repo),
                        () -> w.registry(auth, "GET", "/v2/%2e%2e/" + World.REPO + "/tags/list", "", Map.of(), NONE)),
                attack("Registry blob digest that is a path (sha256:../../)", 400, "NAME_INVALID", List.of(repo),
                        () -> w.registry(auth, "GET", "/v2/" + World.REPO + "/blobs/sha256:..%2F..%2F..%2Fetc%2Fpasswd", "", Map.of(), NONE)),
                attack("Registry upload id that is a path", 400, "NAME_INVALID", List.of(repo),
                        () -> w.registry(auth, "PATCH", "/v2/" + World.REPO + "/blobs/uploads/..%2F..%2F..%2Fimages", "", Map.of(), utf8("x"))),
                attack("Registry manifest tag that is a traversal", 400, "MANIFEST_INVALID", List.of(repo),
                        () -> w.registry(auth, "PUT", "/v2/" + World.REPO + "/manifests/..", "", Map.of("content-type", World.MANIFEST_TYPE),
                                utf8(w.manifest))),
                attack("ECR CreateRepository with a ../ name", 400, "InvalidParameterException", List.of(() -> w.repositoryState("x")),
                        () -> wire.json(w.admin, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", "{\"repositoryName\":\"../x\"}")),
                attack("Training image URI with ../ in the repository", 400, "ValidationException", List.of(jobsState()),
                        () -> wire.json(w.admin, "sagemaker", "SageMaker.CreateTrainingJob", trainingJob("traversal", w.role("admin-role"),
                                w.account + ".dkr.ecr.us-east-1.amazonaws.com/" + World.REPO + "/../../x:v1"))));
    }

    private static String trainingJob(String name, String role, String image) {
        return "{\"TrainingJobName\":\"" + name + "\",\"RoleArn\":\"" + role + "\",\"AlgorithmSpecification\":{\"TrainingImage\":\"" + image
                + "\",\"TrainingInputMode\":\"File\"},\"InputDataConfig\":[{\"ChannelName\":\"train\",\"DataSource\":{\"S3DataSource\":"
                + "{\"S3DataType\":\"S3Prefix\",\"S3Uri\":\"s3://" + World.BUCKET + "/\"}}}],\"OutputDataConfig\":{\"S3OutputPath\":\"s3://"
                + World.BUCKET + "/output\"},\"ResourceConfig\":{\"InstanceType\":\"ml.m5.large\",\"InstanceCount\":1,\"VolumeSizeInGB\":1},"
                + "\"StoppingCondition\":{\"MaxRuntimeInSeconds\":600}}";
    }

    private String image() {
        return w.account + ".dkr.ecr.us-east-1.amazonaws.com/" + World.REPO + ":v1";
    }

    @TestFactory
    @Order(5)
    Stream<DynamicNode> xml() {
        String bucket = "/" + World.BUCKET;
        Supplier<String> state = objectState();
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<Tagging><TagSet><Tag><Key>stolen</Key><Value>&x;</Value></Tag></TagSet></Tagging>";
        StringBuilder laughs = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY l0 \"lol\">");
        for (int i = 1; i <= 9; i++) {
            laughs.append("<!ENTITY l").append(i).append(" \"").append(("&l" + (i - 1) + ";").repeat(10)).append("\">");
        }
        laughs.append("]><Delete><Object><Key>&l9;</Key></Object><Object><Key>" + World.OBJECT + "</Key></Object></Delete>");
        String deep = "<Tagging>" + "<TagSet>".repeat(2000) + "</TagSet>".repeat(2000) + "</Tagging>";
        String paramEntity = "<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY % p SYSTEM \"file:///etc/hostname\"> %p;]>"
                + "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
                + "</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>";
        String utf16 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                + "<Tagging><TagSet><Tag><Key>k</Key><Value>&x;</Value></Tag></TagSet></Tagging>";
        return catalogue("XXE and billion-laughs XML",
                attack("XXE: PutBucketTagging with an external entity reading /etc/passwd", 400, "MalformedXML", List.of(state),
                        () -> wire.signed(w.admin, "s3", "PUT", bucket, "tagging", Map.of(), utf8(xxe))),
                attack("Billion laughs in DeleteObjects (which also names the victim's object)", 400, "MalformedXML", List.of(state),
                        () -> wire.signed(w.admin, "s3", "POST", bucket, "delete", Map.of("content-md5", md5(utf8(laughs.toString()))),
                                utf8(laughs.toString()))),
                attack("External DTD fetched from a listener of the attacker (PutBucketVersioning)", 400, "MalformedXML", List.of(state),
                        AttackCatalogueTest::externalDtd),
                attack("Parameter entity reading a local file (PutBucketEncryption)", 400, "MalformedXML", List.of(state),
                        () -> wire.signed(w.admin, "s3", "PUT", bucket, "encryption", Map.of(), utf8(paramEntity))),
                attack("XML nested 2,000 elements deep (PutBucketTagging)", 400, "MalformedXML", List.of(state),
                        () -> wire.signed(w.admin, "s3", "PUT", bucket, "tagging", Map.of(), utf8(deep))),
                attack("XXE in a UTF-16 document (PutBucketTagging)", 400, "MalformedXML", List.of(state),
                        () -> wire.signed(w.admin, "s3", "PUT", bucket, "tagging", Map.of(), utf16.getBytes(StandardCharsets.UTF_16))),
                attack("JSON nested 10,000 arrays deep in a KMS request", 400, "SerializationException", List.of(keyState()),
                        () -> wire.json(w.admin, "kms", "TrentService.TagResource", "{\"KeyId\":\"" + w.keyId + "\",\"Tags\":" + "[".repeat(10_000)
                                + "]".repeat(10_000) + "}")),
                attack("awsQuery request with 20,000 parameters", 400, "MalformedQueryString", List.of(iamState()), () -> {
                    String[] params = new String[40_000];
                    for (int i = 0; i < 20_000; i++) {
                        params[2 * i] = "Tags.member." + (i + 1) + ".Key";
                        params[2 * i + 1] = "k" + i;
                    }
                    return wire.iam(w.admin, "TagUser", prepend(params, "UserName", "victim"));
                }));
    }

    private static String[] prepend(String[] params, String... first) {
        String[] all = new String[params.length + first.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(params, 0, all, first.length, params.length);
        return all;
    }

    private static String md5(byte[] b) {
        try {
            return Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("MD5").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Reply externalDtd() {
        try (ServerSocket listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(500);
            String doc = "<?xml version=\"1.0\"?><!DOCTYPE v SYSTEM \"http://127.0.0.1:" + listener.getLocalPort() + "/evil.dtd\">"
                    + "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";
            Reply r = wire.signed(w.admin, "s3", "PUT", "/" + World.BUCKET, "versioning", Map.of(), utf8(doc));
            try {
                listener.accept().close();
                throw new AssertionError("the server fetched the external DTD");
            } catch (SocketTimeoutException expected) {
                return r;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @TestFactory
    @Order(6)
    Stream<DynamicNode> oversizedAndSlow() {
        return catalogue("oversized and slow bodies",
                attack("Organizations body declared at 300 KiB (over the operation's 256 KiB) is refused before it is sent", 413,
                        "RequestEntityTooLarge", List.of(orgState()), () -> headersOnly("organizations", orgHeaders("CreateAccount"), 300 * 1024)),
                attack("S3 PutObject declaring 6 GiB (over the 5 GiB single PUT) is refused before the body", 400, "EntityTooLarge", List.of(objectState()), () -> {
                    String path = "/" + World.BUCKET + "/" + World.OBJECT;
                    Map<String, String> h = wire.sign(w.admin, "us-east-1", "s3", "PUT", path, "", Map.of("x-amz-content-sha256",
                            "UNSIGNED-PAYLOAD"), "UNSIGNED-PAYLOAD", Instant.now());
                    return declaredOnly("PUT", path, h, 6L << 30);
                }),
                httpRefusal("A 70 KiB header", 431, List.of(orgState()), () -> rawOrg("X-Big: " + "a".repeat(70 * 1024) + "\r\n", CREATE_ACCOUNT)),
                httpRefusal("Ten thousand headers", 431, List.of(orgState()), () -> {
                    StringBuilder b = new StringBuilder();
                    for (int i = 0; i < 10_000; i++) {
                        b.append("X-H").append(i).append(": v\r\n");
                    }
                    return rawOrg(b.toString(), CREATE_ACCOUNT);
                }),
                httpRefusal("Slow body: a PutObject that sends 10 of its 1,000 bytes and stalls is cut off", 0, List.of(objectState()),
                        () -> stalled(true)),
                httpRefusal("Slowloris: headers that never end are cut off", 0, List.of(objectState()), () -> stalled(false)),
                attack("KMS Encrypt of 4,097 bytes (over the 4 KiB limit)", 400, "ValidationException", List.of(keyState()),
                        () -> wire.json(w.admin, "kms", "TrentService.Encrypt", "{\"KeyId\":\"" + w.keyId + "\",\"Plaintext\":\""
                                + Base64.getEncoder().encodeToString(new byte[4097]) + "\"}")),
                attack("KMS GenerateDataKey of 2,000 bytes (over 1,024)", 400, "ValidationException", List.of(keyState()),
                        () -> wire.json(w.admin, "kms", "TrentService.GenerateDataKey", "{\"KeyId\":\"" + w.keyId + "\",\"NumberOfBytes\":2000}")),
                attack("IAM CreatePolicy with a 7,000-character document (over 6,144)", 409, "LimitExceeded", List.of(iamState()),
                        () -> wire.iam(w.admin, "CreatePolicy", "PolicyName", "huge", "PolicyDocument", bigPolicy(7000))),
                attack("IAM TagUser with 51 tags (over 50)", 400, "ValidationError", List.of(iamState()), () -> {
                    List<String> params = new ArrayList<>(List.of("UserName", "victim"));
                    for (int i = 1; i <= 51; i++) {
                        params.addAll(List.of("Tags.member." + i + ".Key", "k" + i, "Tags.member." + i + ".Value", "v"));
                    }
                    return wire.iam(w.admin, "TagUser", params.toArray(String[]::new));
                }),
                attack("S3 PutBucketTagging with 51 tags (over 50)", 400, "InvalidTag", List.of(objectState()), () -> {
                    StringBuilder b = new StringBuilder("<Tagging><TagSet>");
                    for (int i = 0; i < 51; i++) {
                        b.append("<Tag><Key>k").append(i).append("</Key><Value>v</Value></Tag>");
                    }
                    return wire.signed(w.admin, "s3", "PUT", "/" + World.BUCKET, "tagging", Map.of(), utf8(b.append("</TagSet></Tagging>").toString()));
                }));
    }

    private static String bigPolicy(int length) {
        String head = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::";
        String tail = "\"}]}";
        return head + "b".repeat(length - head.length() - tail.length()) + tail;
    }

    /** Sends a signed request's headers with a declared Content-Length and none of the body; returns the answer. */
    private static Reply headersOnly(String service, Map<String, String> headers, int length) {
        String body = "{\"AccountName\":\"" + "a".repeat(length) + "\"}";
        Map<String, String> h = wire.sign(w.admin, "us-east-1", service, "POST", "/", "", headers, SigV4.sha256Hex(utf8(body)), Instant.now());
        return declaredOnly("POST", "/", h, body.length());
    }

    private static Reply declaredOnly(String method, String path, Map<String, String> h, long length) {
        StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
        h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("Content-Length: ").append(length).append("\r\n\r\n");
        try (SSLSocket s = wire.connect()) {
            s.getOutputStream().write(utf8(head.toString()));
            s.getOutputStream().flush();
            return Wire.read(s.getInputStream());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A PutObject whose body (or whose headers) stop coming: the server must close the connection
     * within its idle timeout (2 s here) plus a margin, without an object. Status 0 means closed without an answer;
     * an answer (408 or 400) is accepted too as long as it comes in time, and reported as 0.
     */
    private static Reply stalled(boolean inBody) {
        String path = "/" + World.BUCKET + "/" + World.OBJECT;
        byte[] body = new byte[1000];
        Map<String, String> h = signAdmin("s3", "PUT", path, "", Map.of(), body, Instant.now());
        StringBuilder head = new StringBuilder("PUT " + path + " HTTP/1.1\r\n");
        h.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("Content-Length: 1000\r\n");
        try (SSLSocket s = wire.connect()) {
            s.setSoTimeout(30_000);
            long start = System.nanoTime();
            OutputStream out = s.getOutputStream();
            out.write(utf8(inBody ? head + "\r\n" : head.toString()));
            if (inBody) {
                out.write(body, 0, 10);
            }
            out.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                s.getInputStream().transferTo(got);
            } catch (IOException closed) {
                // a reset is a close too
            }
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertThat(seconds).as("seconds until the server let go").isLessThan(20);
            String answer = got.toString(StandardCharsets.ISO_8859_1);
            assertThat(answer).as("an answer, if any, is a refusal").satisfiesAnyOf(a -> assertThat(a).isEmpty(),
                    a -> assertThat(a).startsWith("HTTP/1.1 4"));
            return new Reply(0, Map.of(), NONE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @TestFactory
    @Order(7)
    Stream<DynamicNode> passRoleEscalation() {
        Supplier<String> jobs = jobsState();
        String create = "SageMaker.CreateTrainingJob";
        return catalogue("privilege escalation through PassRole",
                attack("Training job with the administrator role, which mallory may not pass", 400, "AccessDeniedException", List.of(jobs),
                        () -> wire.json(w.mallory, "sagemaker", create, trainingJob("escalate", w.role("admin-role"), image()))),
                attack("Training job with a role mallory may pass only to EC2", 400, "AccessDeniedException", List.of(jobs),
                        () -> wire.json(w.mallory, "sagemaker", create, trainingJob("escalate", w.role("ec2-only"), image()))),
                attack("Training job with a passable role whose trust policy does not let SageMaker assume it", 400, "ValidationException",
                        List.of(jobs), () -> wire.json(w.mallory, "sagemaker", create, trainingJob("escalate", w.role("untrusted"), image()))),
                attack("Training job with a role ARN that does not exist", 400, "AccessDeniedException", List.of(jobs),
                        () -> wire.json(w.mallory, "sagemaker", create, trainingJob("escalate", w.role("no-such-role"), image()))),
                attack("Model with the administrator role as its execution role", 400, "AccessDeniedException", List.of(jobs),
                        () -> wire.json(w.mallory, "sagemaker", "SageMaker.CreateModel", "{\"ModelName\":\"escalate\",\"ExecutionRoleArn\":\""
                                + w.role("admin-role") + "\",\"PrimaryContainer\":{\"Image\":\"" + image() + "\"}}")),
                attack("Processing job with the administrator role", 400, "AccessDeniedException", List.of(jobs),
                        () -> wire.json(w.mallory, "sagemaker", "SageMaker.CreateProcessingJob", "{\"ProcessingJobName\":\"escalate\",\"RoleArn\":\""
                                + w.role("admin-role") + "\",\"AppSpecification\":{\"ImageUri\":\"" + image() + "\"},\"ProcessingResources\":"
                                + "{\"ClusterConfig\":{\"InstanceCount\":1,\"InstanceType\":\"ml.m5.large\",\"VolumeSizeInGB\":1}}}")),
                attack("Mallory attaches AdministratorAccess to herself", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.iam(w.mallory, "AttachUserPolicy", "UserName", "mallory", "PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")),
                attack("Mallory writes herself an inline Allow *", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.iam(w.mallory, "PutUserPolicy", "UserName", "mallory", "PolicyName", "all", "PolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}")),
                attack("Mallory makes an access key for the victim", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.iam(w.mallory, "CreateAccessKey", "UserName", "victim")),
                attack("Mallory rewrites the administrator role's trust policy to trust herself", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.iam(w.mallory, "UpdateAssumeRolePolicy", "RoleName", "admin-role", "PolicyDocument",
                                World.trust("{\"AWS\":\"arn:aws:iam::" + w.account + ":user/mallory\"}"))),
                attack("Mallory assumes the administrator role, whose trust names only SageMaker", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.sts(w.mallory, "AssumeRole", "RoleArn", w.role("admin-role"), "RoleSessionName", "escalate")),
                attack("A session policy of Allow * does not widen the reader role's session", 403, "AccessDenied", List.of(iamState()), () -> {
                    Reply s = World.ok(wire.sts(w.mallory, "AssumeRole", "RoleArn", w.role("reader"), "RoleSessionName", "wide", "Policy",
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"));
                    Identity wide = new Identity("wide", s.xml("AccessKeyId"), SecretBytes.ofUtf8(s.xml("SecretAccessKey")), s.xml("SessionToken"));
                    return wire.iam(wide, "CreateUser", "UserName", "intruder");
                }),
                attack("Mallory's reader session creates a user", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.iam(w.mallorySession, "CreateUser", "UserName", "intruder")));
    }

    @TestFactory
    @Order(8)
    Stream<DynamicNode> policyAndTagManipulation() {
        Supplier<String> iam = iamState();
        return catalogue("policy and tag manipulation",
                attack("Mallory retags the victim (team=admin) to her own team to gain tag-based access", 403, "AccessDenied", List.of(iam),
                        () -> wire.iam(w.mallory, "TagUser", "UserName", "victim", "Tags.member.1.Key", "team", "Tags.member.1.Value", "mallory")),
                attack("Mallory removes the victim's team tag", 403, "AccessDenied", List.of(iam),
                        () -> wire.iam(w.mallory, "UntagUser", "UserName", "victim", "TagKeys.member.1", "team")),
                attack("Mallory tags the administrator role", 403, "AccessDenied", List.of(iam),
                        () -> wire.iam(w.mallory, "TagRole", "RoleName", "admin-role", "Tags.member.1.Key", "team", "Tags.member.1.Value", "mallory")),
                attack("Session tags on AssumeRole when the role's trust policy does not allow sts:TagSession", 403, "AccessDenied", List.of(iam),
                        () -> wire.sts(w.mallory, "AssumeRole", "RoleArn", w.role("reader"), "RoleSessionName", "tagged", "Tags.member.1.Key", "team",
                                "Tags.member.1.Value", "admin")),
                attack("SourceIdentity on AssumeRole when the role's trust policy does not allow sts:SetSourceIdentity", 403, "AccessDenied",
                        List.of(iam), () -> wire.sts(w.mallory, "AssumeRole", "RoleArn", w.role("reader"), "RoleSessionName", "disguised",
                                "SourceIdentity", "victim")),
                attack("A tag key in the reserved aws: namespace", 400, "InvalidInput", List.of(iam),
                        () -> wire.iam(w.admin, "TagUser", "UserName", "victim", "Tags.member.1.Key", "aws:team", "Tags.member.1.Value", "x")),
                attack("Inline policy with an unknown Version", 400, "MalformedPolicyDocument", List.of(iam),
                        () -> wire.iam(w.admin, "PutUserPolicy", "UserName", "mallory", "PolicyName", "odd", "PolicyDocument",
                                "{\"Version\":\"2012-10-18\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}")),
                attack("Identity policy that names a Principal", 400, "MalformedPolicyDocument", List.of(iam),
                        () -> wire.iam(w.admin, "PutUserPolicy", "UserName", "mallory", "PolicyName", "odd", "PolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}")),
                attack("Trust policy with a Resource element (a trust policy's resource is its role)", 400, "MalformedPolicyDocument", List.of(iam),
                        () -> wire.iam(w.admin, "UpdateAssumeRolePolicy", "RoleName", "reader", "PolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
                                + "\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}]}")),
                attack("A sixth version of a managed policy", 409, "LimitExceeded", List.of(iam), () -> {
                    String doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";
                    return wire.iam(w.admin, "CreatePolicyVersion", "PolicyArn", "arn:aws:iam::" + w.account + ":policy/five", "PolicyDocument", doc);
                }),
                attack("Mallory writes the victim bucket's policy", 403, "AccessDenied", List.of(objectState()),
                        () -> wire.signed(w.mallory, "s3", "PUT", "/" + World.BUCKET, "policy", Map.of(), utf8(publicBucketPolicy()))),
                attack("Bucket policy without a Principal", 400, "MalformedPolicy", List.of(objectState()),
                        () -> wire.signed(w.admin, "s3", "PUT", "/" + World.BUCKET, "policy", Map.of(), utf8(publicBucketPolicy()
                                .replace("\"Principal\":\"*\",", "")))),
                attack("Key policy that would lock its own administrator out", 400, "MalformedPolicyDocumentException", List.of(keyState()),
                        () -> wire.json(w.admin, "kms", "TrentService.PutKeyPolicy", "{\"KeyId\":\"" + w.keyId + "\",\"PolicyName\":\"default\","
                                + "\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":"
                                + "{\\\"AWS\\\":\\\"arn:aws:iam::" + w.memberAccount + ":root\\\"},\\\"Action\\\":\\\"kms:*\\\",\\\"Resource\\\":\\\"*\\\"}]}\"}")),
                attack("Mallory changes the victim key's policy", 400, "AccessDeniedException", List.of(keyState()),
                        () -> wire.json(w.mallory, "kms", "TrentService.PutKeyPolicy", "{\"KeyId\":\"" + w.keyId + "\",\"PolicyName\":\"default\","
                                + "\"Policy\":\"{}\"}")),
                attack("KMS tag key in the reserved aws: namespace", 400, "TagException", List.of(keyState()),
                        () -> wire.json(w.admin, "kms", "TrentService.TagResource", "{\"KeyId\":\"" + w.keyId + "\",\"Tags\":[{\"TagKey\":\"aws:x\","
                                + "\"TagValue\":\"y\"}]}")),
                attack("The member account's administrator detaches the SCPs of its own account", 400, "AccessDeniedException",
                        List.of(orgState()), () -> wire.json(w.member, "organizations", "AWSOrganizationsV20161128.DisablePolicyType",
                                "{\"RootId\":\"r-0000\",\"PolicyType\":\"SERVICE_CONTROL_POLICY\"}")),
                attack("The member account's administrator creates an account in the organization", 400, "AccessDeniedException",
                        List.of(orgState()), () -> wire.json(w.member, "organizations", "AWSOrganizationsV20161128.CreateAccount", CREATE_ACCOUNT)));
    }

    private static String publicBucketPolicy() {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::"
                + World.BUCKET + "\",\"arn:aws:s3:::" + World.BUCKET + "/*\"]}]}";
    }

    @TestFactory
    @Order(9)
    Stream<DynamicNode> confusedDeputy() {
        String objectPath = "/" + World.BUCKET + "/" + World.OBJECT;
        Supplier<String> memberBucket = () -> w.bucketState(World.MEMBER_BUCKET);
        return catalogue("confused-deputy and cross-account",
                attack("Member account reads the management account's object", 403, "AccessDenied", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "GET", objectPath, "", Map.of(), NONE)),
                attack("Member account overwrites the management account's object", 403, "AccessDenied", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "PUT", objectPath, "", Map.of(), utf8("mine now"))),
                attack("Member account deletes the management account's object", 403, "AccessDenied", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "DELETE", objectPath, "", Map.of(), NONE)),
                attack("Member account lists the management account's bucket", 403, "AccessDenied", List.of(objectState()),
                        () -> wire.signed(w.member, "s3", "GET", "/" + World.BUCKET, "list-type=2", Map.of(), NONE)),
                attack("Member account copies the management account's object into its own bucket", 403, "AccessDenied",
                        List.of(objectState(), memberBucket), () -> wire.signed(w.member, "s3", "PUT", "/" + World.MEMBER_BUCKET + "/stolen", "",
                                Map.of("x-amz-copy-source", objectPath), NONE)),
                attack("Member account creates a bucket with the management account's bucket name", 409, "BucketAlreadyExists",
                        List.of(objectState()), () -> wire.signed(w.member, "s3", "PUT", "/" + World.BUCKET, "", Map.of(), NONE)),
                attack("Member account decrypts the management account's ciphertext", 400, "AccessDeniedException", List.of(keyState()),
                        () -> wire.json(w.member, "kms", "TrentService.Decrypt", "{\"CiphertextBlob\":\"" + w.ciphertext + "\",\"EncryptionContext\":"
                                + "{\"purpose\":\"a\"}}")),
                attack("Member account grants itself the management account's key", 400, "AccessDeniedException", List.of(keyState()),
                        () -> wire.json(w.member, "kms", "TrentService.CreateGrant", "{\"KeyId\":\"arn:aws:kms:us-east-1:" + w.account + ":key/"
                                + w.keyId + "\",\"GranteePrincipal\":\"arn:aws:iam::" + w.memberAccount + ":root\",\"Operations\":[\"Decrypt\"]}")),
                attack("Member account pulls the management account's image", 403, "DENIED", List.of(repoState(World.REPO)),
                        () -> w.registry(w.memberRegistryAuth, "GET", "/v2/" + w.account + ".dkr.ecr.us-east-1.amazonaws.com/" + World.REPO
                                + "/manifests/v1", "", Map.of(), NONE)),
                attack("Member account pushes a tag into the management account's repository", 403, "DENIED", List.of(repoState(World.REPO)),
                        () -> w.registry(w.memberRegistryAuth, "PUT", "/v2/" + w.account + ".dkr.ecr.us-east-1.amazonaws.com/" + World.REPO
                                + "/manifests/v1", "", Map.of("content-type", World.MANIFEST_TYPE), utf8(w.manifest))),
                attack("Member account points its trail at a bucket whose policy admits only the management trail", 400,
                        "InsufficientS3BucketPolicyException", List.of(w::trailState),
                        () -> wire.json(w.member, "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail",
                                "{\"Name\":\"management\",\"S3BucketName\":\"" + World.TRAIL_BUCKET + "\"}")),
                attack("Member account assumes the partner role without the external id", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.sts(w.member, "AssumeRole", "RoleArn", w.role("partner"), "RoleSessionName", "deputy")),
                attack("Member account assumes the partner role with a guessed external id", 403, "AccessDenied", List.of(iamState()),
                        () -> wire.sts(w.member, "AssumeRole", "RoleArn", w.role("partner"), "RoleSessionName", "deputy", "ExternalId", "guess")),
                attack("Management account passes the member account's role to its own training job", 400, "AccessDeniedException",
                        List.of(jobsState()), () -> wire.json(w.admin, "sagemaker", "SageMaker.CreateTrainingJob", trainingJob("deputy",
                                "arn:aws:iam::" + w.memberAccount + ":role/member-sagemaker", image()))),
                attack("Member account passes the management account's administrator role", 400, "AccessDeniedException", List.of(jobsState()),
                        () -> wire.json(w.member, "sagemaker", "SageMaker.CreateTrainingJob", trainingJob("deputy", w.role("admin-role"), image()))),
                attack("Member account names the management account's IAM user by ARN", 400, "ValidationError", List.of(iamState()),
                        () -> wire.iam(w.member, "DeleteUserPolicy", "UserName", "arn:aws:iam::" + w.account + ":user/mallory", "PolicyName", "powers")));
    }

    @TestFactory
    @Order(10)
    Stream<DynamicNode> kmsContextMisuse() {
        Supplier<String> key = keyState();
        return catalogue("KMS encryption context misuse",
                attack("Decrypt with another encryption context", 400, "InvalidCiphertextException", List.of(key),
                        () -> decrypt(w.admin, w.ciphertext, "{\"purpose\":\"b\"}", "")),
                attack("Decrypt without the encryption context", 400, "InvalidCiphertextException", List.of(key),
                        () -> decrypt(w.admin, w.ciphertext, null, "")),
                attack("Decrypt with an extra encryption context pair", 400, "InvalidCiphertextException", List.of(key),
                        () -> decrypt(w.admin, w.ciphertext, "{\"purpose\":\"a\",\"extra\":\"x\"}", "")),
                attack("Decrypt with the context's key in another case", 400, "InvalidCiphertextException", List.of(key),
                        () -> decrypt(w.admin, w.ciphertext, "{\"Purpose\":\"a\"}", "")),
                attack("Grantee decrypts outside the grant's EncryptionContextEquals", 400, "AccessDeniedException", List.of(key),
                        () -> decrypt(w.mallory, w.ciphertext, "{\"purpose\":\"a\"}", "")),
                attack("Grantee uses an operation the grant does not give (Encrypt)", 400, "AccessDeniedException", List.of(key),
                        () -> wire.json(w.mallory, "kms", "TrentService.Encrypt", "{\"KeyId\":\"" + w.keyId + "\",\"Plaintext\":\"AAAA\","
                                + "\"EncryptionContext\":{\"purpose\":\"b\"}}")),
                attack("Grantee grants itself more (CreateGrant)", 400, "AccessDeniedException", List.of(key),
                        () -> wire.json(w.mallory, "kms", "TrentService.CreateGrant", "{\"KeyId\":\"" + w.keyId + "\",\"GranteePrincipal\":"
                                + "\"arn:aws:iam::" + w.account + ":user/mallory\",\"Operations\":[\"Decrypt\",\"Encrypt\"]}")),
                attack("Decrypt naming another key than the blob's", 400, "IncorrectKeyException", List.of(key),
                        () -> decrypt(w.admin, w.ciphertext, "{\"purpose\":\"a\"}", w.otherKeyId)),
                attack("Ciphertext with one byte of its body flipped", 400, "InvalidCiphertextException", List.of(key), () -> {
                    byte[] b = Base64.getDecoder().decode(w.ciphertext);
                    b[b.length - 5] ^= 1;
                    return decrypt(w.admin, Base64.getEncoder().encodeToString(b), "{\"purpose\":\"a\"}", "");
                }),
                attack("Ciphertext whose header names the other key", 400, "InvalidCiphertextException", List.of(key), () -> {
                    byte[] b = Base64.getDecoder().decode(w.ciphertext);
                    String blob = new String(b, StandardCharsets.ISO_8859_1);
                    int at = blob.indexOf(w.keyId);
                    assertThat(at).as("the key id is in the blob's header").isGreaterThanOrEqualTo(0);
                    byte[] other = w.otherKeyId.getBytes(StandardCharsets.ISO_8859_1);
                    System.arraycopy(other, 0, b, at, other.length);
                    return decrypt(w.admin, Base64.getEncoder().encodeToString(b), "{\"purpose\":\"a\"}", "");
                }),
                attack("Encrypt under Citadel's own secrets key", 400, "AccessDeniedException", List.of(() -> w.keyState(w.secretsKeyId)),
                        () -> wire.json(w.admin, "kms", "TrentService.Encrypt", "{\"KeyId\":\"alias/citadel/secrets\",\"Plaintext\":\"AAAA\"}")),
                attack("Schedule the deletion of Citadel's own secrets key", 400, "AccessDeniedException", List.of(() -> w.keyState(w.secretsKeyId)),
                        () -> wire.json(w.admin, "kms", "TrentService.ScheduleKeyDeletion", "{\"KeyId\":\"" + w.secretsKeyId + "\"}")),
                attack("Decrypt through the S3-managed key alias/aws/s3 outside S3", 400, "AccessDeniedException", List.of(key),
                        () -> wire.json(w.admin, "kms", "TrentService.GenerateDataKey", "{\"KeyId\":\"alias/aws/s3\",\"KeySpec\":\"AES_256\"}")),
                attack("Encryption context value that is not a string", 400, "ValidationException", List.of(key),
                        () -> wire.json(w.admin, "kms", "TrentService.Encrypt", "{\"KeyId\":\"" + w.keyId + "\",\"Plaintext\":\"AAAA\","
                                + "\"EncryptionContext\":{\"purpose\":{\"nested\":1}}}")));
    }

    private static Reply decrypt(Identity id, String blob, String context, String keyId) {
        return wire.json(id, "kms", "TrentService.Decrypt", "{\"CiphertextBlob\":\"" + blob + "\"" + (context == null ? "" : ",\"EncryptionContext\":"
                + context) + (keyId.isEmpty() ? "" : ",\"KeyId\":\"" + keyId + "\"") + "}");
    }

    @TestFactory
    @Order(11)
    Stream<DynamicNode> registryDigests() {
        String auth = w.registryAuth;
        String repo = "/v2/" + World.REPO;
        byte[] blob = utf8("a blob pushed under a lie");
        byte[] other = utf8("something else entirely");
        String missing = World.digest(utf8("never pushed"));
        Supplier<String> images = repoState(World.REPO);
        Supplier<String> blobAbsent = () -> w.blobState(World.REPO, World.digest(blob));
        return catalogue("registry digest mismatches",
                attack("Monolithic blob upload under another blob's digest", 400, "DIGEST_INVALID", List.of(images, blobAbsent),
                        () -> w.registry(auth, "POST", repo + "/blobs/uploads/", "digest=" + World.digest(other), Map.of(), blob)),
                attack("Chunked upload completed with the wrong digest", 400, "DIGEST_INVALID", List.of(images, blobAbsent), () -> {
                    Reply started = World.ok(w.registry(auth, "POST", repo + "/blobs/uploads/", "", Map.of(), NONE));
                    String location = started.headers().get("location");
                    World.ok(w.registry(auth, "PATCH", location, "", Map.of("content-range", "0-" + (blob.length - 1)), blob));
                    return w.registry(auth, "PUT", location, "digest=" + World.digest(other), Map.of(), NONE);
                }),
                attack("Blob digest that is not 64 lower-case hex digits", 400, "DIGEST_INVALID", List.of(images, blobAbsent),
                        () -> w.registry(auth, "POST", repo + "/blobs/uploads/", "digest=" + World.digest(blob).toUpperCase(java.util.Locale.ROOT)
                                .replace("SHA256", "sha256"), Map.of(), blob)),
                attack("Blob digest of another algorithm (sha512)", 400, "DIGEST_INVALID", List.of(images, blobAbsent),
                        () -> w.registry(auth, "POST", repo + "/blobs/uploads/", "digest=sha512:" + "ab".repeat(64), Map.of(), blob)),
                attack("Manifest pushed by a digest it does not have", 400, "DIGEST_INVALID", List.of(images),
                        () -> w.registry(auth, "PUT", repo + "/manifests/" + World.digest(other), "", Map.of("content-type", World.MANIFEST_TYPE),
                                utf8(w.manifest))),
                attack("Manifest whose layer size lies", 400, "MANIFEST_INVALID", List.of(images),
                        () -> w.registry(auth, "PUT", repo + "/manifests/v1", "", Map.of("content-type", World.MANIFEST_TYPE),
                                utf8(World.manifest(World.digest(w.config), w.config.length, World.digest(w.layer), w.layer.length + 1)))),
                attack("Manifest naming a layer the repository does not have", 400, "MANIFEST_BLOB_UNKNOWN", List.of(images),
                        () -> w.registry(auth, "PUT", repo + "/manifests/v1", "", Map.of("content-type", World.MANIFEST_TYPE),
                                utf8(World.manifest(World.digest(w.config), w.config.length, missing, 12)))),
                attack("Index naming a manifest the repository does not have", 400, "MANIFEST_BLOB_UNKNOWN", List.of(images), () -> {
                    String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\""
                            + World.MANIFEST_TYPE + "\",\"digest\":\"" + missing + "\",\"size\":7,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
                    return w.registry(auth, "PUT", repo + "/manifests/v1", "", Map.of("content-type", "application/vnd.oci.image.index.v1+json"),
                            utf8(index));
                }),
                attack("Manifest whose content type says index but whose body is an image manifest", 400, "MANIFEST_INVALID", List.of(images),
                        () -> w.registry(auth, "PUT", repo + "/manifests/v1", "", Map.of("content-type", "application/vnd.oci.image.index.v1+json"),
                                utf8(w.manifest.replace(World.MANIFEST_TYPE, "application/vnd.oci.image.index.v1+json")))),
                attack("Immutable tag moved to another manifest", 400, "TAG_INVALID", List.of(repoState(World.FROZEN)), () -> {
                    String moved = World.manifest(World.digest(w.config), w.config.length, World.digest(w.layer), w.layer.length)
                            .replace("}]}", "}],\"annotations\":{\"moved\":\"yes\"}}");
                    return w.registry(auth, "PUT", "/v2/" + World.FROZEN + "/manifests/v1", "", Map.of("content-type", World.MANIFEST_TYPE),
                            utf8(moved));
                }),
                attack("Upload chunk whose Content-Range leaves a gap", 416, "BLOB_UPLOAD_INVALID", List.of(images, blobAbsent), () -> {
                    Reply started = World.ok(w.registry(auth, "POST", repo + "/blobs/uploads/", "", Map.of(), NONE));
                    String location = started.headers().get("location");
                    return w.registry(auth, "PATCH", location, "", Map.of("content-range", "5-" + (blob.length + 4)), blob);
                }),
                attack("Mallory (token, no ECR permission) pushes a manifest", 403, "DENIED", List.of(images),
                        () -> w.registry(w.malloryRegistryAuth, "PUT", repo + "/manifests/v1", "", Map.of("content-type", World.MANIFEST_TYPE),
                                utf8(w.manifest.replace("}]}", "}],\"annotations\":{\"by\":\"mallory\"}}")))),
                attack("Registry token forged from a made-up session", 401, "UNAUTHORIZED", List.of(images),
                        () -> w.registry("Basic " + Base64.getEncoder().encodeToString(utf8("AWS:ASIAAAAAAAAAAAAAAAAA.CTZ1AAAA")), "DELETE",
                                repo + "/manifests/v1", "", Map.of(), NONE)));
    }

    @Test
    @Order(99)
    void theAuditTrailsDigestChainStaysValidAfterTheWholeCatalogue() throws Exception {
        Thread.sleep(5_000); // a delivery interval and two digest intervals: the catalogue's events are in signed, chained files
        server.stop();
        try (Citadel.Offline offline = Citadel.openOffline(TestServer.config(server.dataDir()))) {
            TrailVerifier.Report report = new TrailVerifier(offline.store(), offline.s3()).verify("");
            assertThat(report.valid()).as(String.join("\n", report.lines())).isTrue();
            assertThat(report.digestsValid()).isGreaterThanOrEqualTo(2);
            assertThat(report.logsValid()).isGreaterThanOrEqualTo(1);
        }
    }
}
