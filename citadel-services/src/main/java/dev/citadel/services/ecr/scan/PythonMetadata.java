package dev.citadel.services.ecr.scan;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The core metadata of an installed Python distribution ({@code *.dist-info/METADATA},
 * {@code *.egg-info/PKG-INFO}, or an {@code *.egg-info} file): RFC 822-style headers, of which
 * the first {@code Name} and {@code Version} are read, up to the first empty line. A name must be
 * a valid distribution name (PEP 508: letters, digits, {@code . _ -}, starting and ending with a
 * letter or digit); any bytes give a result or empty, never an exception.
 */
final class PythonMetadata {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");

    record Distribution(String name, String version) {
    }

    private PythonMetadata() {
    }

    static Optional<Distribution> parse(byte[] data) {
        String name = null;
        String version = null;
        for (String line : Text.lines(data)) {
            if (line.isEmpty()) {
                break;
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (key.equals("name") && name == null) {
                name = value;
            } else if (key.equals("version") && version == null) {
                version = value;
            }
        }
        if (name == null || name.length() > Package.MAX_FIELD || !NAME.matcher(name).matches() || !Package.plausible(version)) {
            return Optional.empty();
        }
        return Optional.of(new Distribution(name, version));
    }

    /** PEP 503's normalised form, under which PyPI advisories and packages are compared. */
    static String normalise(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[-_.]+", "-");
    }
}
