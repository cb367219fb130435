package dev.citadel.server.config;

/** A configuration problem, worded for the operator who has to fix it. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
