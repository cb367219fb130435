package dev.citadel.core;

import static java.util.Objects.requireNonNull;

/**
 * A failure a client sees, carrying the AWS error code, HTTP status and fault the real service
 * uses. Each protocol encoder turns it into that protocol's exact error shape; nothing else
 * decides what a client is told. The message must never contain a secret.
 */
public class AwsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Who AWS blames: {@code Sender} for client errors, {@code Receiver} for server errors. */
    public enum Fault { SENDER, RECEIVER }

    private final String code;
    private final int httpStatus;

    public AwsException(String code, int httpStatus, String message) {
        super(requireNonNull(message, "message is null"), null, false, false);
        this.code = requireNonNull(code, "code is null");
        if (httpStatus < 400 || httpStatus > 599) {
            throw new IllegalArgumentException("httpStatus must be 4xx or 5xx: " + httpStatus);
        }
        this.httpStatus = httpStatus;
    }

    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public Fault fault() {
        return httpStatus >= 500 ? Fault.RECEIVER : Fault.SENDER;
    }

    public static AwsException validation(String message) {
        return new AwsException("ValidationError", 400, message);
    }

    public static AwsException accessDenied(String message) {
        return new AwsException("AccessDenied", 403, message);
    }

    public static AwsException internal() {
        return new AwsException("InternalFailure", 500,
                "The request processing has failed because of an unknown error, exception or failure.");
    }

    @Override
    public String toString() {
        return code + " (" + httpStatus + "): " + getMessage();
    }
}
