package dev.citadel.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A minimal HTTP/1.1 client connection for load generation: writes pre-built request bytes and
 * reads one response (status line, headers, a Content-Length body). It keeps the connection
 * alive and reconnects only when the server closes it ({@code Connection: close}, as moto's
 * development server does). It allocates little so that the client costs the machine as little
 * as possible next to the server under test. It speaks over TCP (with TLS or without) or over a
 * Unix socket (a serving container's port bridge, reached directly).
 */
final class HttpConnection implements AutoCloseable {
    /** One response: status, and whether the body (or the ETag header, for a PUT's empty answer) contained the expected marker. */
    record Response(int status, boolean matched) {
    }

    private final String host;
    private final int port;
    private final SSLContext tls;
    private final Path unixSocket;
    private AutoCloseable socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] body = new byte[64 * 1024];
    private int bodyLength;
    private final StringBuilder line = new StringBuilder(256);
    int reconnects;

    HttpConnection(String host, int port, SSLContext tls) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.unixSocket = null;
    }

    /** A connection to the Unix socket at {@code socket} (plain HTTP). */
    HttpConnection(Path socket) {
        this.host = null;
        this.port = -1;
        this.tls = null;
        this.unixSocket = socket;
    }

    private void connect() throws IOException {
        if (unixSocket != null) {
            SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(unixSocket));
            socket = channel;
            in = new BufferedInputStream(Channels.newInputStream(channel), 16 * 1024);
            out = new BufferedOutputStream(Channels.newOutputStream(channel), 16 * 1024);
            return;
        }
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(host, port), 5000);
        s.setSoTimeout(30_000);
        if (tls != null) {
            SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, host, port, true);
            ssl.startHandshake();
            s = ssl;
        }
        socket = s;
        in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
        out = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
    }

    Response send(byte[] request, byte[] marker) throws IOException {
        if (socket == null) {
            connect();
        }
        out.write(request);
        out.flush();
        int status = -1;
        long length = -1;
        boolean close = false;
        boolean etagMatched = false;
        String statusLine = readLine();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        status = Integer.parseInt(statusLine.substring(9, 12));
        for (String h = readLine(); h != null && !h.isEmpty(); h = readLine()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("content-length")) {
                length = Long.parseLong(value);
            } else if (name.equalsIgnoreCase("connection") && value.equalsIgnoreCase("close")) {
                close = true;
            } else if (name.equalsIgnoreCase("etag") && marker.length > 0
                    && value.contains(new String(marker, java.nio.charset.StandardCharsets.ISO_8859_1))) {
                etagMatched = true;
            }
        }
        boolean matched;
        if (length >= 0) {
            if (length > body.length) {
                throw new IOException("response body larger than " + body.length);
            }
            bodyLength = in.readNBytes(body, 0, (int) length);
            matched = contains(body, bodyLength, marker);
        } else {
            bodyLength = in.readNBytes(body, 0, body.length);
            matched = contains(body, bodyLength, marker);
            close = true;
        }
        if (close || statusLine.startsWith("HTTP/1.0")) {
            closeSocket();
            reconnects++;
        }
        return new Response(status, matched || etagMatched);
    }

    /** The body of the last response (at most 64 KiB). */
    byte[] lastBody() {
        return Arrays.copyOf(body, bodyLength);
    }

    private String readLine() throws IOException {
        line.setLength(0);
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                int len = line.length();
                if (len > 0 && line.charAt(len - 1) == '\r') {
                    line.setLength(len - 1);
                }
                return line.toString();
            }
            line.append((char) c);
        }
        return line.isEmpty() ? null : line.toString();
    }

    private static boolean contains(byte[] haystack, int length, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private void closeSocket() {
        if (socket != null) {
            try {
                socket.close();
            } catch (Exception ignored) {
                // the connection is being replaced either way
            }
            socket = null;
        }
    }

    @Override
    public void close() {
        closeSocket();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
