package dev.citadel.server.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Raw configuration values: defaults, then the config file, then {@code --set KEY=VALUE}
 * overrides. The file has one {@code key = value} per line; blank lines and lines starting with
 * {@code #} are ignored. Unknown keys, repeated keys and malformed lines are refused with the
 * file name and line number.
 */
public final class Settings {
    private final Map<ConfigKey, String> values;

    private Settings(Map<ConfigKey, String> values) {
        this.values = values;
    }

    public static Settings defaults() {
        Map<ConfigKey, String> values = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : ConfigKey.values()) {
            values.put(key, key.defaultValue());
        }
        return new Settings(values);
    }

    /** Reads a config file on top of these settings. */
    public Settings withFile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<ConfigKey, String> next = new EnumMap<>(values);
        List<ConfigKey> seen = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + ":" + (i + 1);
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(where + ": expected 'key = value', got '" + line + "'");
            }
            ConfigKey key = resolve(line.substring(0, eq).strip(), where);
            if (seen.contains(key)) {
                throw new ConfigException(where + ": '" + key.key() + "' is set twice");
            }
            seen.add(key);
            next.put(key, line.substring(eq + 1).strip());
        }
        return new Settings(next);
    }

    /** Applies one {@code KEY=VALUE} override from the command line. */
    public Settings with(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("--set expects KEY=VALUE, got '" + assignment + "'");
        }
        ConfigKey key = resolve(assignment.substring(0, eq).strip(), "--set");
        Map<ConfigKey, String> next = new EnumMap<>(values);
        next.put(key, assignment.substring(eq + 1).strip());
        return new Settings(next);
    }

    public Settings with(ConfigKey key, String value) {
        Map<ConfigKey, String> next = new EnumMap<>(values);
        next.put(key, value);
        return new Settings(next);
    }

    public String get(ConfigKey key) {
        return values.get(key);
    }

    public int getInt(ConfigKey key, int min, int max) {
        return (int) getLong(key, min, max);
    }

    public long getLong(ConfigKey key, long min, long max) {
        String raw = get(key);
        try {
            long value = Long.parseLong(raw);
            if (value < min || value > max) {
                throw new ConfigException(key.key() + " must be between " + min + " and " + max + ", got " + raw);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new ConfigException(key.key() + " must be a whole number, got '" + raw + "'");
        }
    }

    /** A duration written as a number and a unit: {@code 500ms}, {@code 30s}, {@code 15m}, {@code 2h}. */
    public Duration getDuration(ConfigKey key, Duration min, Duration max) {
        String raw = get(key);
        Duration value = parseDuration(raw);
        if (value == null) {
            throw new ConfigException(key.key() + " must be a duration such as 500ms, 30s, 15m or 2h, got '" + raw + "'");
        }
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new ConfigException(key.key() + " must be between " + min + " and " + max + ", got " + raw);
        }
        return value;
    }

    private static Duration parseDuration(String raw) {
        int split = 0;
        while (split < raw.length() && Character.isDigit(raw.charAt(split))) {
            split++;
        }
        if (split == 0 || split > 9) {
            return null;
        }
        long amount = Long.parseLong(raw.substring(0, split));
        return switch (raw.substring(split)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> null;
        };
    }

    private static ConfigKey resolve(String name, String where) {
        return ConfigKey.byName(name).orElseThrow(() -> new ConfigException(where + ": unknown setting '" + name + "'"
                + ConfigKey.closest(name).map(k -> " (did you mean '" + k.key() + "'?)").orElse("")));
    }
}
