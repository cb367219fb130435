package dev.citadel.services.sandbox;

/** A container could not be started; the message is safe to show the job's owner. */
public final class SandboxException extends java.io.IOException {
    public SandboxException(String message) {
        super(message);
    }

    public SandboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
