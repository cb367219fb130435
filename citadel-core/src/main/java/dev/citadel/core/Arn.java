package dev.citadel.core;

import static java.util.Objects.requireNonNull;

/**
 * An Amazon Resource Name in the {@code aws} partition:
 * {@code arn:partition:service:region:account-id:resource}. Region and account may be empty.
 */
public record Arn(String partition, String service, String region, String account, String resource) {
    public static final String PARTITION = "aws";

    public Arn {
        requireNonNull(partition, "partition is null");
        requireNonNull(service, "service is null");
        requireNonNull(region, "region is null");
        requireNonNull(account, "account is null");
        requireNonNull(resource, "resource is null");
        if (partition.isEmpty() || service.isEmpty() || resource.isEmpty()) {
            throw new IllegalArgumentException("partition, service and resource must not be empty");
        }
    }

    public static Arn of(String service, String region, String account, String resource) {
        return new Arn(PARTITION, service, region, account, resource);
    }

    /** Parses an ARN; throws {@link IllegalArgumentException} if it is not one. */
    public static Arn parse(String text) {
        requireNonNull(text, "text is null");
        String[] parts = text.split(":", 6);
        if (parts.length != 6 || !parts[0].equals("arn")) {
            throw new IllegalArgumentException("not an ARN");
        }
        return new Arn(parts[1], parts[2], parts[3], parts[4], parts[5]);
    }

    @Override
    public String toString() {
        return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource;
    }
}
