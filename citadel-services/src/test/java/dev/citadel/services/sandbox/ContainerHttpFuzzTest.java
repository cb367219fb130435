package dev.citadel.services.sandbox;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.List;

/**
 * Fuzz target for what a serving container answers: any bytes, arriving in chunks of any size, as
 * the response to a GET, HEAD or POST with any body limit. Corpus:
 * {@code src/test/resources/dev/citadel/services/sandbox/ContainerHttpFuzzTestInputs/response/}
 * (the response's bytes; the fuzzer's trailing bytes pick the method, limit and chunking). A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=ContainerHttpFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * The reader either refuses with an {@link IOException} or returns a response within the limits.
 */
class ContainerHttpFuzzTest {
    private static final List<String> METHODS = List.of("GET", "POST", "HEAD");

    @FuzzTest(maxDuration = "30s")
    void response(FuzzedDataProvider data) {
        String method = data.pickValue(METHODS);
        int maxBody = data.consumeInt(0, 1 << 16);
        int chunk = data.consumeInt(1, 512);
        byte[] raw = data.consumeRemainingAsBytes();
        try {
            ContainerHttp.Parsed p = new ContainerHttp.ResponseReader(chunked(raw, chunk)).response(method, maxBody);
            ContainerHttp.Response r = p.response();
            if (r.status() < 200 || r.status() > 999 || r.body().length > maxBody || r.headers().size() > ContainerHttp.MAX_HEADERS) {
                throw new AssertionError("accepted out of bounds: " + r.status() + " " + r.body().length + " " + r.headers().size());
            }
            for (String name : r.headers().keySet()) {
                if (!ContainerHttp.isToken(name) || !name.equals(name.toLowerCase(java.util.Locale.ROOT))) {
                    throw new AssertionError("a header name accepted: " + name);
                }
            }
            for (String value : r.headers().values()) {
                if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                    throw new AssertionError("a header value with CR or LF accepted");
                }
            }
        } catch (IOException e) {
            // refused: as it should be for anything malformed
        }
    }

    /** A channel giving {@code raw} at most {@code chunk} bytes per read, then the end of the stream. */
    static ReadableByteChannel chunked(byte[] raw, int chunk) {
        return new ReadableByteChannel() {
            private int offset;

            @Override
            public int read(ByteBuffer dst) {
                if (offset >= raw.length) {
                    return -1;
                }
                int n = Math.min(Math.min(chunk, dst.remaining()), raw.length - offset);
                dst.put(raw, offset, n);
                offset += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }
}
