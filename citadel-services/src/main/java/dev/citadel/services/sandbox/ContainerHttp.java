package dev.citadel.services.sandbox;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/** TEMPORARY compile stub; replaced by the serving branch. */
public final class ContainerHttp implements AutoCloseable {
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {
    }

    public record Response(int status, Map<String, String> headers, byte[] body) {
    }

    public static class ProtocolException extends IOException {
        public ProtocolException(String m) {
            super(m);
        }
    }

    public ContainerHttp(Execution execution, int port, int maxIdleConnections) {
    }

    public Response exchange(Request request, Duration timeout, long maxResponseBytes) throws IOException {
        throw new IOException("stub");
    }

    @Override
    public void close() {
    }
}
