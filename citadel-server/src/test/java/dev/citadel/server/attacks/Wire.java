package dev.citadel.server.attacks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.TestServer;
import dev.citadel.server.acceptance.ClientEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * HTTP/1.1 over TLS written byte by byte, so that an attack can send exactly what it wants:
 * duplicate or malformed headers, lying lengths, half a body, a signature over something else.
 * Well-formed signed requests ({@link #signed}, and the state reads that use them) share one
 * kept-alive connection; every other request has a connection of its own ({@code Connection:
 * close}), or the caller writes the raw bytes on one it opened.
 */
final class Wire {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern XML_CODE = Pattern.compile("<Code>([^<]*)</Code>");

    /** Credentials of one identity: a long-term key, or a session's key with its token. */
    record Identity(String name, String accessKeyId, SecretBytes secret, String sessionToken) {
        Identity withoutToken() {
            return new Identity(name + " without token", accessKeyId, secret, "");
        }
    }

    /** An answer: status, lower-cased headers, body. */
    record Reply(int status, Map<String, String> headers, byte[] bytes) {
        String body() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /** The AWS or OCI error code of the answer, whatever the protocol; empty when it has none. */
        String errorCode() {
            String b = body();
            Matcher m = XML_CODE.matcher(b);
            if (m.find()) {
                return m.group(1);
            }
            if (b.startsWith("{")) {
                try {
                    JsonNode n = JSON.readTree(b);
                    if (n.has("__type")) {
                        String t = n.path("__type").asText();
                        return t.substring(t.indexOf('#') + 1);
                    }
                    if (n.has("errors")) {
                        return n.path("errors").path(0).path("code").asText();
                    }
                    if (n.has("code")) {
                        return n.path("code").asText();
                    }
                } catch (IOException e) {
                    return "";
                }
            }
            return headers.getOrDefault("x-amzn-errortype", "").split(":")[0];
        }

        JsonNode json() {
            try {
                return JSON.readTree(bytes);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body(), e);
            }
        }

        /** The first text of element {@code name} in an XML answer. */
        String xml(String name) {
            Matcher m = Pattern.compile("<" + name + ">([^<]*)</" + name + ">").matcher(body());
            if (!m.find()) {
                throw new AssertionError("no <" + name + "> in (" + status + "): " + body());
            }
            return m.group(1);
        }

        @Override
        public String toString() {
            return status + " " + body();
        }
    }

    private final TestServer server;
    private final SSLContext tls;

    Wire(TestServer server) {
        this.server = server;
        try {
            tls = SSLContext.getInstance("TLS");
            tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String host() {
        return "localhost:" + server.port();
    }

    /**
     * A new TLS connection. The catalogue's server has a short idle timeout (so that stalled
     * requests end quickly), which a handshake on a loaded machine can outlast: a handshake the
     * server ended is tried again, twice at most.
     */
    SSLSocket connect() {
        for (int attempt = 1; ; attempt++) {
            try {
                SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("localhost", server.port());
                s.setSoTimeout(30_000);
                s.startHandshake();
                return s;
            } catch (javax.net.ssl.SSLHandshakeException e) {
                if (attempt == 3) {
                    throw new UncheckedIOException(e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Signs a request as {@code id} for {@code service} at {@code at} in {@code region}; returns the headers to send (host included). */
    Map<String, String> sign(Identity id, String region, String service, String method, String path, String query, Map<String, String> headers,
            String payloadHash, Instant at) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("host", host());
        h.putAll(headers);
        if (!id.sessionToken().isEmpty()) {
            h.put("x-amz-security-token", id.sessionToken());
        }
        if (service.equals("s3") && !h.containsKey("x-amz-content-sha256")) {
            h.put("x-amz-content-sha256", payloadHash);
        }
        return new SigV4Signer(id.accessKeyId(), id.secret(), region, service).signHeaders(method, path, query, h, payloadHash, at);
    }

    /** A well-formed request signed as {@code id}. */
    Reply signed(Identity id, String service, String method, String path, String query, Map<String, String> headers, byte[] body) {
        Map<String, String> h = sign(id, "us-east-1", service, method, path, query, headers, SigV4.sha256Hex(body), Instant.now());
        return send(method, path, query, h, body, true);
    }

    Reply query(Identity id, String service, String version, String action, String... params) {
        StringBuilder b = new StringBuilder("Action=").append(action).append("&Version=").append(version);
        for (int i = 0; i < params.length; i += 2) {
            b.append('&').append(params[i]).append('=').append(dev.citadel.auth.Rfc3986.encode(params[i + 1], true));
        }
        return signed(id, service, "POST", "/", "", Map.of("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
                b.toString().getBytes(StandardCharsets.UTF_8));
    }

    Reply iam(Identity id, String action, String... params) {
        return query(id, "iam", "2010-05-08", action, params);
    }

    Reply sts(Identity id, String action, String... params) {
        return query(id, "sts", "2011-06-15", action, params);
    }

    Reply json(Identity id, String service, String target, String body) {
        return signed(id, service, "POST", "/", "", Map.of("content-type", "application/x-amz-json-1.1", "x-amz-target", target),
                body.getBytes(StandardCharsets.UTF_8));
    }

    /** Sends a request with exactly these headers (plus Content-Length and Connection: close). */
    Reply send(String method, String path, String query, Map<String, String> headers, byte[] body) {
        return send(method, path, query, headers, body, false);
    }

    /**
     * Sends a request with exactly these headers plus Content-Length; with {@code keepAlive} on the
     * connection kept for such requests (opened again when the server closed it while idle).
     */
    Reply send(String method, String path, String query, Map<String, String> headers, byte[] body, boolean keepAlive) {
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(query.isEmpty() ? "" : "?" + query).append(" HTTP/1.1\r\n");
        boolean hasHost = false;
        for (var e : headers.entrySet()) {
            hasHost |= e.getKey().equalsIgnoreCase("host");
            head.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
        }
        if (!hasHost) {
            head.append("host: ").append(host()).append("\r\n");
        }
        head.append("content-length: ").append(body.length).append(keepAlive ? "\r\n\r\n" : "\r\nconnection: close\r\n\r\n");
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        all.writeBytes(body);
        return keepAlive ? exchange(all.toByteArray(), method.equals("HEAD")) : raw(all.toByteArray());
    }

    private SSLSocket live;

    private synchronized Reply exchange(byte[] bytes, boolean head) {
        for (int attempt = 0; ; attempt++) {
            try {
                if (live == null || live.isClosed()) {
                    live = connect();
                }
                live.getOutputStream().write(bytes);
                live.getOutputStream().flush();
                Reply r = head ? readHead(live.getInputStream()) : read(live.getInputStream());
                if (r.status() != 0) {
                    if ("close".equalsIgnoreCase(r.headers().get("connection"))) {
                        live.close();
                        live = null;
                    }
                    return r;
                }
            } catch (IOException e) {
                if (attempt > 0) {
                    throw new UncheckedIOException(e);
                }
            }
            // The server closed the idle connection before the request reached it: once more on a new one.
            closeLive();
            if (attempt > 0) {
                return new Reply(0, Map.of(), new byte[0]);
            }
        }
    }

    private void closeLive() {
        try {
            if (live != null) {
                live.close();
            }
        } catch (IOException ignored) {
            // already gone
        }
        live = null;
    }

    private static Reply readHead(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) {
            return new Reply(0, Map.of(), new byte[0]);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        return new Reply(Integer.parseInt(statusLine.split(" ")[1]), headers, new byte[0]);
    }

    /** Writes {@code bytes} on a new connection and reads one answer (status 0 when the server closed without one). */
    Reply raw(byte[] bytes) {
        try (SSLSocket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            return read(s.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one HTTP answer from {@code in}; status 0 when the connection ended first. */
    static Reply read(InputStream in) throws IOException {
        String statusLine;
        try {
            statusLine = line(in);
        } catch (SocketTimeoutException | javax.net.ssl.SSLException e) {
            return new Reply(0, Map.of(), new byte[0]);
        }
        if (statusLine == null) {
            return new Reply(0, Map.of(), new byte[0]);
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
            int c = l.indexOf(':');
            headers.merge(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim(), (a, b) -> a + "," + b);
        }
        byte[] body;
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int n = Integer.parseInt(line(in).split(";")[0].trim(), 16); n > 0; n = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                b.writeBytes(in.readNBytes(n));
                line(in);
            }
            body = b.toByteArray();
        } else if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else {
            body = in.readAllBytes();
        }
        return new Reply(status, headers, body);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] l = b.toByteArray();
                int n = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
                return new String(l, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }
}
