package dev.citadel.services.sandbox;

import java.nio.file.Path;
import java.util.Set;

/**
 * The sandbox when the configured one could not be set up (runc missing, a data directory its
 * containers cannot reach): Citadel still starts and serves everything else, and each job fails
 * at its start with the reason, which the operator can act on.
 */
public final class UnavailableSandbox implements Sandbox {
    private final String reason;

    public UnavailableSandbox(String reason) {
        this.reason = reason;
    }

    @Override
    public Path createVolume(String id, long sizeBytes, byte[] key) throws SandboxException {
        throw new SandboxException("The job sandbox is not available on this Citadel: " + reason);
    }

    @Override
    public Execution start(String id, ContainerSpec spec, OutputSink output) throws SandboxException {
        throw new SandboxException("The job sandbox is not available on this Citadel: " + reason);
    }

    @Override
    public java.util.Optional<String> unavailable() {
        return java.util.Optional.of(reason);
    }

    @Override
    public Set<String> present() {
        return Set.of();
    }

    @Override
    public void remove(String id) {
    }
}
