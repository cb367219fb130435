package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

/** The {@code Credential=} part of a SigV4 signature: {@code AKID/yyyymmdd/region/service/aws4_request}. */
public record CredentialScope(String accessKeyId, String date, String region, String service) {
    public CredentialScope {
        requireNonNull(accessKeyId, "accessKeyId is null");
        requireNonNull(date, "date is null");
        requireNonNull(region, "region is null");
        requireNonNull(service, "service is null");
    }

    /** {@code yyyymmdd/region/service/aws4_request}, as it appears in the string to sign. */
    public String scope() {
        return date + "/" + region + "/" + service + "/aws4_request";
    }
}
