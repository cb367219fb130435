package dev.citadel.services.sagemaker;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The instance types this installation offers and what each gets on this machine: CPUs and
 * memory. Names are SageMaker's ({@code ml.m5.large}); the sizes are the operator's
 * (configuration {@code jobs.instance-types}), defaulting to AWS's published sizes of the types.
 */
public final class InstanceTypes {
    /** What one instance gets. */
    public record Profile(double cpus, long memoryBytes) {
    }

    private static final long GIB = 1L << 30;
    private final Map<String, Profile> profiles;

    public InstanceTypes(Map<String, Profile> profiles) {
        this.profiles = new TreeMap<>(profiles);
        if (this.profiles.isEmpty()) {
            throw new IllegalArgumentException("at least one instance type must be offered");
        }
    }

    /** AWS's sizes of the common general-purpose and compute types. */
    public static InstanceTypes defaults() {
        Map<String, Profile> p = new TreeMap<>();
        p.put("ml.t3.medium", new Profile(2, 4 * GIB));
        p.put("ml.m5.large", new Profile(2, 8 * GIB));
        p.put("ml.m5.xlarge", new Profile(4, 16 * GIB));
        p.put("ml.m5.2xlarge", new Profile(8, 32 * GIB));
        p.put("ml.m4.xlarge", new Profile(4, 16 * GIB));
        p.put("ml.c5.large", new Profile(2, 4 * GIB));
        p.put("ml.c5.xlarge", new Profile(4, 8 * GIB));
        p.put("ml.c5.2xlarge", new Profile(8, 16 * GIB));
        return new InstanceTypes(p);
    }

    /**
     * Reads {@code name=cpus:memoryGiB} pairs separated by commas ({@code ml.m5.large=2:8}).
     *
     * @throws IllegalArgumentException naming the bad entry
     */
    public static InstanceTypes parse(String spec) {
        Map<String, Profile> p = new TreeMap<>();
        for (String entry : spec.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(ml\\.[a-z0-9]+\\.[a-z0-9]+)=(\\d+(?:\\.\\d+)?):(\\d+(?:\\.\\d+)?)")
                    .matcher(e);
            if (!m.matches()) {
                throw new IllegalArgumentException("instance type '" + e + "' is not of the form ml.<family>.<size>=<cpus>:<memory GiB>");
            }
            double cpus = Double.parseDouble(m.group(2));
            double gib = Double.parseDouble(m.group(3));
            if (cpus <= 0 || gib < 0.125) {
                throw new IllegalArgumentException("instance type '" + e + "' needs more than 0 CPUs and at least 0.125 GiB");
            }
            p.put(m.group(1), new Profile(cpus, (long) (gib * GIB)));
        }
        return new InstanceTypes(p);
    }

    public Optional<Profile> profile(String name) {
        return Optional.ofNullable(profiles.get(name));
    }

    public List<String> names() {
        return List.copyOf(profiles.keySet());
    }
}
