package dev.citadel.services.sandbox;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal HTTP/1.1 client to a port of a container, over {@link Execution#connect}: what
 * Citadel uses to call a serving container's {@code GET /ping} and {@code POST /invocations}.
 *
 * <p>The container is untrusted, so every limit is enforced while reading: the status line and
 * headers (and a chunked body's trailers) hold at most {@value #MAX_HEADER_BYTES} bytes and
 * {@value #MAX_HEADERS} fields, the body at most the caller's {@code maxResponseBytes} (its buffer
 * grows with what arrives, never to a size the container merely announced), and the whole
 * exchange (connecting, writing, reading) ends within the caller's timeout: a watchdog closes the
 * connection at the deadline (within {@link #WATCHDOG_TICK} after it), which works for any
 * {@link ByteChannel} whose close interrupts a blocked read (sockets, pipes). Anything that is not a well-formed response is a
 * {@link ProtocolException}; only a complete, well-formed response that did not end with
 * {@code Connection: close} (or HTTP/1.0 without keep-alive) and left no extra byte behind puts its
 * connection back into the pool.
 *
 * <p>A request sent on a pooled connection that the container had meanwhile closed (end of stream
 * or reset before the first byte of a response) is sent once more on a new connection, as HTTP
 * clients do; the request's body is in memory, so it can be.
 *
 * <p>Thread-safe: any number of exchanges run at once, each on a connection of its own; at most
 * {@code maxIdleConnections} are kept open between exchanges.
 */
public final class ContainerHttp implements AutoCloseable {
    /** The status line and header fields of a response (or of a chunked body's trailers) together, in bytes. */
    public static final int MAX_HEADER_BYTES = 64 * 1024;
    /** Header fields in a response (and, separately, trailer fields). */
    public static final int MAX_HEADERS = 100;
    /** Interim (1xx) responses skipped before the final one. */
    static final int MAX_INTERIM = 10;
    private static final int BUFFER_BYTES = 16 * 1024;
    private static final int INITIAL_BODY_BYTES = 16 * 1024;
    /** The largest body an array holds, whatever the caller allows. */
    private static final long MAX_BODY_BYTES = Integer.MAX_VALUE - 8;
    private static final byte[] CRLF = {'\r', '\n'};
    /**
     * How often the watchdog looks for exchanges past their deadline. It looks on its own
     * schedule rather than being told of each exchange, so that an exchange costs it nothing but
     * an entry in {@link #UNDER_WAY}: a timer armed per exchange woke its thread on every call
     * that found no other pending (a context switch each time, about 40 µs of CPU per call here).
     */
    static final Duration WATCHDOG_TICK = Duration.ofMillis(25);
    /** The exchanges under way, each until it ends or the watchdog ends it. */
    private static final Set<Deadline> UNDER_WAY = ConcurrentHashMap.newKeySet();
    private static final Thread WATCHDOG = Thread.ofPlatform().name("container-http-watchdog").daemon().start(ContainerHttp::watch);

    /**
     * A request. Header names must be tokens and values may not hold CR, LF or NUL (or characters
     * beyond ISO-8859-1); {@code Host}, {@code Content-Length}, {@code Transfer-Encoding},
     * {@code Connection}, {@code Upgrade}, {@code TE}, {@code Trailer}, {@code Keep-Alive} and
     * {@code Expect} are the client's own and may not be given.
     */
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {
        public Request {
            requireNonNull(method, "method is null");
            requireNonNull(path, "path is null");
            headers = Map.copyOf(requireNonNull(headers, "headers is null"));
            body = body == null ? new byte[0] : body;
        }
    }

    /** A response; header names lower-cased, repeated fields joined with {@code ", "}. */
    public record Response(int status, Map<String, String> headers, byte[] body) {
    }

    /** The container answered something that is not a well-formed HTTP/1.1 response within the limits. */
    public static final class ProtocolException extends IOException {
        public ProtocolException(String message) {
            super(message);
        }
    }

    private final Execution execution;
    private final int port;
    private final int maxIdle;
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    private boolean closed; // guarded by idle

    public ContainerHttp(Execution execution, int port, int maxIdleConnections) {
        this.execution = requireNonNull(execution, "execution is null");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("bad port");
        }
        if (maxIdleConnections < 0) {
            throw new IllegalArgumentException("maxIdleConnections must not be negative");
        }
        this.port = port;
        this.maxIdle = maxIdleConnections;
    }

    /**
     * Sends one request on a pooled keep-alive connection (opening one when none is idle); the
     * whole exchange must end within timeout; a response body beyond maxResponseBytes is refused.
     *
     * @throws HttpTimeoutException      when the exchange did not end within {@code timeout}
     * @throws ProtocolException         when the response is malformed or beyond a limit
     * @throws SandboxException          when the container's port cannot be reached (from {@link Execution#connect})
     * @throws IOException               when the container closed the connection before answering, or the connection failed
     * @throws IllegalArgumentException  when the request is malformed (method, path or a header)
     */
    public Response exchange(Request request, Duration timeout, long maxResponseBytes) throws IOException {
        requireNonNull(request, "request is null");
        requireNonNull(timeout, "timeout is null");
        if (maxResponseBytes < 0) {
            throw new IllegalArgumentException("maxResponseBytes must not be negative");
        }
        byte[] head = head(request);
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        while (true) {
            Connection pooled = takeIdle();
            Connection connection = pooled != null ? pooled : open(deadline, timeout);
            Attempt attempt = attempt(connection, head, request, deadline, timeout, maxResponseBytes);
            if (attempt.response != null) {
                return attempt.response;
            }
            if (pooled == null || System.nanoTime() - deadline >= 0) {
                throw attempt.failure;
            }
            // a stale pooled connection: try the next one (or a new one)
        }
    }

    /** Closes every idle connection; exchanges under way finish and close theirs. */
    @Override
    public void close() {
        synchronized (idle) {
            closed = true;
            idle.forEach(Connection::closeQuietly);
            idle.clear();
        }
    }

    /** Idle connections now (for tests). */
    int idleConnections() {
        synchronized (idle) {
            return idle.size();
        }
    }

    private record Attempt(Response response, IOException failure) {
    }

    private Attempt attempt(Connection connection, byte[] head, Request request, long deadline, Duration timeout, long maxResponseBytes)
            throws IOException {
        if (deadline - System.nanoTime() <= 0) {
            connection.closeQuietly();
            throw new HttpTimeoutException("the container did not answer within " + timeout);
        }
        Deadline watched = new Deadline(deadline, connection);
        UNDER_WAY.add(watched);
        boolean keep = false;
        try {
            connection.reader.reset();
            writeFully(connection.channel, head, request.body());
            Parsed parsed = connection.reader.response(request.method(), maxResponseBytes);
            keep = parsed.reusable();
            return new Attempt(parsed.response(), null);
        } catch (IOException e) {
            if (watched.expired()) {
                throw new HttpTimeoutException("the container did not answer within " + timeout);
            }
            if (connection.reused && !connection.reader.received() && !(e instanceof ProtocolException)) {
                return new Attempt(null, e);
            }
            throw e;
        } finally {
            UNDER_WAY.remove(watched);
            boolean ended = watched.end();
            if (keep && ended) {
                release(connection);
            } else {
                connection.closeQuietly();
            }
        }
    }

    private Connection open(long deadline, Duration timeout) throws IOException {
        ByteChannel channel = execution.connect(port);
        if (System.nanoTime() - deadline >= 0) {
            closeQuietly(channel);
            throw new HttpTimeoutException("the container did not answer within " + timeout);
        }
        return new Connection(channel);
    }

    private Connection takeIdle() {
        synchronized (idle) {
            return idle.pollFirst();
        }
    }

    private void release(Connection connection) {
        synchronized (idle) {
            if (!closed && idle.size() < maxIdle) {
                connection.reused = true;
                idle.addFirst(connection);
                return;
            }
        }
        connection.closeQuietly();
    }

    /** Head and body in one system call where the channel gathers (a socket), so a small request is one segment. */
    private static void writeFully(ByteChannel channel, byte[] head, byte[] body) throws IOException {
        ByteBuffer[] parts = {ByteBuffer.wrap(head), ByteBuffer.wrap(body)};
        if (channel instanceof GatheringByteChannel g) {
            while (parts[0].hasRemaining() || parts[1].hasRemaining()) {
                if (g.write(parts) == 0) {
                    Thread.onSpinWait();
                }
            }
            return;
        }
        for (ByteBuffer b : parts) {
            while (b.hasRemaining()) {
                if (channel.write(b) == 0) {
                    Thread.onSpinWait();
                }
            }
        }
    }

    /** The request line and header section, validated. */
    static byte[] head(Request request) {
        if (!isToken(request.method())) {
            throw new IllegalArgumentException("the method is not a token");
        }
        String path = request.path();
        if (path.isEmpty() || path.charAt(0) != '/') {
            throw new IllegalArgumentException("the path must start with /");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("the path holds a character that must be percent-encoded");
            }
        }
        StringBuilder b = new StringBuilder(128);
        b.append(request.method()).append(' ').append(path).append(" HTTP/1.1\r\nHost: localhost\r\nContent-Length: ")
                .append(request.body().length).append("\r\n");
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
            String name = h.getKey();
            String value = h.getValue();
            if (!isToken(name)) {
                throw new IllegalArgumentException("a header name is not a token");
            }
            if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("the header " + name + " is the client's own");
            }
            if (value == null) {
                throw new IllegalArgumentException("a header value is null");
            }
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '\r' || c == '\n' || c == 0 || c > 0xff || (c < 0x20 && c != '\t') || c == 0x7f) {
                    throw new IllegalArgumentException("the value of header " + name + " holds a forbidden character");
                }
            }
            b.append(name).append(": ").append(value.strip()).append("\r\n");
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static final java.util.Set<String> RESERVED = java.util.Set.of("host", "content-length", "transfer-encoding", "connection",
            "upgrade", "te", "trailer", "keep-alive", "expect", "proxy-connection");

    static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isTokenChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTokenChar(int c) {
        return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }

    private static void closeQuietly(ByteChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** An exchange's deadline; whichever comes first, the exchange's end or the watchdog, settles it. */
    private static final class Deadline {
        private static final int RUNNING = 0;
        private static final int ENDED = 1;
        private static final int EXPIRED = 2;
        final long at;
        final Connection connection;
        private final AtomicInteger state = new AtomicInteger(RUNNING);

        Deadline(long at, Connection connection) {
            this.at = at;
            this.connection = connection;
        }

        /** The exchange ended before the watchdog ended it: its connection is its own again. */
        boolean end() {
            return state.compareAndSet(RUNNING, ENDED);
        }

        /** Called by the watchdog past the deadline: true if it ends the exchange (and must close its connection). */
        boolean expire() {
            return state.compareAndSet(RUNNING, EXPIRED);
        }

        boolean expired() {
            return state.get() == EXPIRED;
        }
    }

    /** The watchdog's loop: every tick, closes the connection of each exchange past its deadline. */
    private static void watch() {
        while (true) {
            try {
                Thread.sleep(WATCHDOG_TICK);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Deadline d : UNDER_WAY) {
                if (now - d.at >= 0 && d.expire()) {
                    UNDER_WAY.remove(d);
                    d.connection.closeQuietly();
                }
            }
        }
    }

    /** A connection and its read buffer. */
    private static final class Connection {
        final ByteChannel channel;
        final ResponseReader reader;
        volatile boolean reused;

        Connection(ByteChannel channel) {
            this.channel = channel;
            this.reader = new ResponseReader(channel);
        }

        void closeQuietly() {
            ContainerHttp.closeQuietly(channel);
        }
    }

    /** A response and whether its connection may carry another request. */
    record Parsed(Response response, boolean reusable) {
    }

    /**
     * Reads one response from a channel: the parser, kept apart from the pool so that the fuzz
     * target drives it with any bytes in any chunking.
     */
    static final class ResponseReader {
        private final ReadableByteChannel in;
        private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
        private boolean received;
        private boolean eof;
        /** Bytes of the current header section (or trailers) so far. */
        private int headerBytes;

        ResponseReader(ReadableByteChannel in) {
            this.in = in;
            buffer.flip(); // read mode, empty
        }

        /** Starts a new exchange: nothing received yet (anything buffered would have made the connection unusable). */
        void reset() {
            received = false;
        }

        /** Whether any byte of the response arrived. */
        boolean received() {
            return received;
        }

        Parsed response(String method, long maxResponseBytes) throws IOException {
            long maxBody = Math.min(maxResponseBytes, MAX_BODY_BYTES);
            int interim = 0;
            while (true) {
                headerBytes = 0;
                String status = line("the status line");
                if (status == null) {
                    throw new IOException("the container closed the connection without answering");
                }
                if (!status.startsWith("HTTP/1.") || status.length() < 12 || (status.charAt(7) != '0' && status.charAt(7) != '1')
                        || status.charAt(8) != ' ' || (status.length() > 12 && status.charAt(12) != ' ')) {
                    throw new ProtocolException("the status line is not HTTP/1.x");
                }
                int code = 0;
                for (int i = 9; i < 12; i++) {
                    char c = status.charAt(i);
                    if (c < '0' || c > '9') {
                        throw new ProtocolException("the status code is not three digits");
                    }
                    code = code * 10 + (c - '0');
                }
                if (code < 100) {
                    throw new ProtocolException("the status code is out of range");
                }
                boolean http10 = status.charAt(7) == '0';
                Map<String, String> headers = fields("header", true);
                if (code < 200) {
                    if (code == 101) {
                        throw new ProtocolException("the container switched protocols");
                    }
                    if (++interim > MAX_INTERIM) {
                        throw new ProtocolException("too many interim responses");
                    }
                    continue;
                }
                return body(method, code, http10, headers, maxBody);
            }
        }

        private Parsed body(String method, int code, boolean http10, Map<String, String> headers, long maxBody) throws IOException {
            String connection = headers.getOrDefault("connection", "");
            boolean close = hasToken(connection, "close") || (http10 && !hasToken(connection, "keep-alive"));
            String te = headers.get("transfer-encoding");
            String cl = headers.get("content-length");
            if (te != null && cl != null) {
                throw new ProtocolException("the response has both Transfer-Encoding and Content-Length");
            }
            byte[] body;
            boolean delimited = true;
            if ("HEAD".equals(method) || code == 204 || code == 304) {
                body = new byte[0];
            } else if (te != null) {
                if (http10 || !te.strip().equalsIgnoreCase("chunked")) {
                    throw new ProtocolException("the response's transfer coding is not chunked");
                }
                body = chunked(maxBody);
            } else if (cl != null) {
                long length = contentLength(cl);
                if (length > maxBody) {
                    throw new ProtocolException("the response body is larger than " + maxBody + " bytes");
                }
                Body b = new Body((int) Math.min(length, INITIAL_BODY_BYTES), length);
                readExactly(b, length);
                body = b.bytes();
            } else {
                // Neither: the body runs to the end of the connection.
                delimited = false;
                Body b = new Body((int) Math.min(INITIAL_BODY_BYTES, maxBody), maxBody);
                while (true) {
                    if (!buffer.hasRemaining() && !fill()) {
                        break;
                    }
                    if ((long) b.size + buffer.remaining() > maxBody) {
                        throw new ProtocolException("the response body is larger than " + maxBody + " bytes");
                    }
                    b.take(buffer, buffer.remaining());
                }
                body = b.bytes();
            }
            boolean reusable = delimited && !close && !buffer.hasRemaining();
            return new Parsed(new Response(code, Collections.unmodifiableMap(headers), body), reusable);
        }

        private byte[] chunked(long maxBody) throws IOException {
            Body b = new Body((int) Math.min(INITIAL_BODY_BYTES, maxBody), maxBody);
            headerBytes = 0;
            while (true) {
                String line = line("a chunk size");
                if (line == null) {
                    throw new ProtocolException("the response ended inside its chunked body");
                }
                int semicolon = line.indexOf(';');
                String hex = (semicolon >= 0 ? line.substring(0, semicolon) : line).strip();
                if (hex.isEmpty() || hex.length() > 15) {
                    throw new ProtocolException("a chunk size is malformed");
                }
                long size = 0;
                for (int i = 0; i < hex.length(); i++) {
                    int d = Character.digit(hex.charAt(i), 16);
                    if (d < 0) {
                        throw new ProtocolException("a chunk size is malformed");
                    }
                    size = size * 16 + d;
                }
                if (size == 0) {
                    fields("trailer", false);
                    return b.bytes();
                }
                if (b.size + size > maxBody) {
                    throw new ProtocolException("the response body is larger than " + maxBody + " bytes");
                }
                readExactly(b, size);
                String end = line("a chunk's end");
                if (end == null || !end.isEmpty()) {
                    throw new ProtocolException("a chunk does not end with CRLF");
                }
            }
        }

        private void readExactly(Body b, long length) throws IOException {
            long left = length;
            while (left > 0) {
                if (!buffer.hasRemaining() && !fill()) {
                    throw new ProtocolException("the response ended before its body did");
                }
                int n = (int) Math.min(left, buffer.remaining());
                b.take(buffer, n);
                left -= n;
            }
        }

        private static long contentLength(String value) throws ProtocolException {
            // Repeated fields arrive joined with ", ": all must agree.
            long length = -1;
            for (String part : value.split(",", -1)) {
                String p = part.strip();
                if (p.isEmpty() || p.length() > 18) {
                    throw new ProtocolException("the Content-Length is malformed");
                }
                long v = 0;
                for (int i = 0; i < p.length(); i++) {
                    char c = p.charAt(i);
                    if (c < '0' || c > '9') {
                        throw new ProtocolException("the Content-Length is malformed");
                    }
                    v = v * 10 + (c - '0');
                }
                if (length >= 0 && v != length) {
                    throw new ProtocolException("the response has conflicting Content-Length values");
                }
                length = v;
            }
            return length;
        }

        /** Header (or trailer) fields up to the empty line; trailers are read and dropped. */
        private Map<String, String> fields(String what, boolean keep) throws IOException {
            Map<String, String> fields = new LinkedHashMap<>();
            int count = 0;
            while (true) {
                String line = line("the " + what + "s");
                if (line == null) {
                    throw new ProtocolException("the response ended inside its " + what + "s");
                }
                if (line.isEmpty()) {
                    return fields;
                }
                if (++count > MAX_HEADERS) {
                    throw new ProtocolException("the response has more than " + MAX_HEADERS + " " + what + "s");
                }
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw new ProtocolException("a " + what + " line has no name");
                }
                String name = line.substring(0, colon);
                if (!isToken(name)) {
                    throw new ProtocolException("a " + what + " name is not a token");
                }
                String value = line.substring(colon + 1).strip();
                for (int i = 0; i < value.length(); i++) {
                    char c = value.charAt(i);
                    if ((c < 0x20 && c != '\t') || c == 0x7f) {
                        throw new ProtocolException("a " + what + " value holds a control character");
                    }
                }
                if (keep) {
                    fields.merge(name.toLowerCase(Locale.ROOT), value, (a, v) -> a + ", " + v);
                }
            }
        }

        /**
         * One line without its CRLF (a bare LF is accepted, a bare CR is not), counted against the
         * header budget; null at the end of the stream before any byte of it.
         */
        private String line(String what) throws IOException {
            byte[] acc = null;
            int accLength = 0;
            while (true) {
                int start = buffer.position();
                int limit = buffer.limit();
                byte[] array = buffer.array();
                for (int i = start; i < limit; i++) {
                    if (array[i] == '\n') {
                        int n = i - start + 1;
                        count(n, what);
                        buffer.position(i + 1);
                        if (acc == null) {
                            return text(array, start, n);
                        }
                        acc = append(acc, accLength, array, start, n);
                        return text(acc, 0, accLength + n);
                    }
                }
                int n = limit - start;
                if (n > 0) {
                    count(n, what);
                    acc = append(acc == null ? new byte[Math.max(256, n)] : acc, accLength, array, start, n);
                    accLength += n;
                    buffer.position(limit);
                }
                if (!fill()) {
                    if (accLength == 0) {
                        return null;
                    }
                    throw new ProtocolException("the response ended inside " + what);
                }
            }
        }

        private void count(int n, String what) throws ProtocolException {
            headerBytes += n;
            if (headerBytes > MAX_HEADER_BYTES) {
                throw new ProtocolException(what + " exceed " + MAX_HEADER_BYTES + " bytes");
            }
        }

        private static byte[] append(byte[] acc, int accLength, byte[] from, int offset, int n) {
            if (accLength + n > acc.length) {
                acc = Arrays.copyOf(acc, Math.max(acc.length * 2, accLength + n));
            }
            System.arraycopy(from, offset, acc, accLength, n);
            return acc;
        }

        /** The line ends with LF at offset + length - 1; drops it and a CR before it. Any other CR is refused. */
        private static String text(byte[] bytes, int offset, int length) throws ProtocolException {
            int end = offset + length - 1;
            if (end > offset && bytes[end - 1] == '\r') {
                end--;
            }
            for (int i = offset; i < end; i++) {
                if (bytes[i] == '\r' || bytes[i] == 0) {
                    throw new ProtocolException("a line holds a bare CR or NUL");
                }
            }
            return new String(bytes, offset, end - offset, StandardCharsets.ISO_8859_1);
        }

        /** Reads more into the buffer (which the caller has emptied or must keep); false at the end of the stream. */
        private boolean fill() throws IOException {
            if (eof) {
                return false;
            }
            buffer.compact();
            try {
                while (true) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        eof = true;
                        return buffer.position() > 0;
                    }
                    if (n > 0) {
                        received = true;
                        return true;
                    }
                    Thread.onSpinWait();
                }
            } finally {
                buffer.flip();
            }
        }

        private static boolean hasToken(String list, String token) {
            for (String t : list.split(",")) {
                if (t.strip().equalsIgnoreCase(token)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A body's bytes, growing with what arrives up to a bound fixed in advance. */
    private static final class Body {
        private byte[] bytes;
        private int size;
        private final long bound;

        Body(int initial, long bound) {
            this.bytes = new byte[initial];
            this.bound = bound;
        }

        void take(ByteBuffer from, int n) {
            if (size + n > bytes.length) {
                long grown = Math.max((long) bytes.length * 2, (long) size + n);
                bytes = Arrays.copyOf(bytes, (int) Math.min(grown, bound));
            }
            from.get(bytes, size, n);
            size += n;
        }

        byte[] bytes() {
            return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
        }
    }
}
