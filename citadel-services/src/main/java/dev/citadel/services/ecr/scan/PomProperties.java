package dev.citadel.services.ecr.scan;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * A jar's {@code META-INF/maven/<groupId>/<artifactId>/pom.properties}: a Java properties file
 * with {@code groupId}, {@code artifactId} and {@code version}, which name the Maven artifact the
 * jar was built as ({@code group:artifact} is the package name in OSV's Maven ecosystem). Read as
 * UTF-8 (an ISO-8859-1 file differs only in non-ASCII bytes, which no valid coordinate has). Any
 * bytes give a result or empty, never an exception.
 */
final class PomProperties {
    private static final Pattern COORDINATE = Pattern.compile("[A-Za-z0-9_.-]+");

    record Artifact(String groupId, String artifactId, String version) {
        String name() {
            return groupId + ":" + artifactId;
        }
    }

    private PomProperties() {
    }

    static Optional<Artifact> parse(byte[] data) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(data, StandardCharsets.UTF_8)));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty(); // a malformed \\uXXXX escape
        }
        String g = trimmed(p.getProperty("groupId"));
        String a = trimmed(p.getProperty("artifactId"));
        String v = trimmed(p.getProperty("version"));
        if (!coordinate(g) || !coordinate(a) || !Package.plausible(v)) {
            return Optional.empty();
        }
        return Optional.of(new Artifact(g, a, v));
    }

    private static String trimmed(String s) {
        return s == null ? null : s.trim();
    }

    private static boolean coordinate(String s) {
        return s != null && !s.isEmpty() && s.length() <= 128 && COORDINATE.matcher(s).matches();
    }
}
