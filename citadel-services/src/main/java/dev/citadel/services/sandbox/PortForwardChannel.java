package dev.citadel.services.sandbox;

import io.fabric8.kubernetes.client.PortForward;
import io.fabric8.kubernetes.client.dsl.PodResource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.Pipe;

/**
 * A connection to a pod's port through the API server's port forwarding (a WebSocket to
 * {@code pods/<pod>/portforward}), as a {@link ByteChannel}: fabric8's channel form, fed and
 * drained through two in-process pipes, so that no TCP port opens on Citadel's host. Reads and
 * writes block; {@link #close} (from any thread) ends a blocked read or write and the WebSocket.
 * The container's end closing the connection (or the forward failing) is the end of the stream.
 */
final class PortForwardChannel implements ByteChannel {
    private final Pipe toPod;
    private final Pipe fromPod;
    private final PortForward forward;

    private PortForwardChannel(Pipe toPod, Pipe fromPod, PortForward forward) {
        this.toPod = toPod;
        this.fromPod = fromPod;
        this.forward = forward;
    }

    static PortForwardChannel open(PodResource pod, int port) throws IOException {
        Pipe toPod = Pipe.open();
        Pipe fromPod = Pipe.open();
        try {
            return new PortForwardChannel(toPod, fromPod, pod.portForward(port, toPod.source(), fromPod.sink()));
        } catch (RuntimeException e) {
            closeAll(toPod, fromPod);
            throw new SandboxException("the pod's port " + port + " cannot be forwarded", e);
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return fromPod.source().read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return toPod.sink().write(src);
    }

    @Override
    public boolean isOpen() {
        return fromPod.source().isOpen() && toPod.sink().isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            forward.close();
        } finally {
            // fabric8 closes its ends when the WebSocket ends; ours and theirs go now regardless.
            closeAll(toPod, fromPod);
        }
    }

    private static void closeAll(Pipe toPod, Pipe fromPod) throws IOException {
        IOException failure = null;
        for (java.nio.channels.Channel c : new java.nio.channels.Channel[] {toPod.sink(), fromPod.source(), toPod.source(), fromPod.sink()}) {
            try {
                c.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
