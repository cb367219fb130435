package dev.citadel.server.backup;

/**
 * A backup or restore that cannot go ahead, with a message for the operator that says why and,
 * where there is one, what to do. A restore that throws it has written nothing (or removed what
 * it wrote); a backup that throws it has removed its partial directory.
 */
public final class BackupException extends RuntimeException {
    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
