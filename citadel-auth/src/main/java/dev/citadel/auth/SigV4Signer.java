package dev.citadel.auth;

import dev.citadel.core.SecretBytes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Client-side SigV4, as the AWS SDKs do it: signs a request in the Authorization header or
 * presigns it into the query. Citadel uses it in tests, in the load tool, and nowhere on the
 * server's request path.
 */
public final class SigV4Signer {
    private final String accessKeyId;
    private final SecretBytes secret;
    private final String region;
    private final String service;

    public SigV4Signer(String accessKeyId, SecretBytes secret, String region, String service) {
        this.accessKeyId = accessKeyId;
        this.secret = secret;
        this.region = region;
        this.service = service;
    }

    /**
     * Returns the request's headers plus {@code X-Amz-Date} and {@code Authorization}. Every
     * header given is signed. {@code rawPath} and {@code rawQuery} are as they will be sent. An
     * {@code X-Amz-Date} or {@code Authorization} among the given headers (in any case) is replaced.
     */
    public Map<String, String> signHeaders(String method, String rawPath, String rawQuery, Map<String, String> headers,
            String payloadHash, Instant at) {
        String amzDate = SigV4.amzDate(at);
        Map<String, String> out = new LinkedHashMap<>(headers);
        out.keySet().removeIf(k -> k.equalsIgnoreCase("x-amz-date") || k.equalsIgnoreCase("authorization"));
        out.put("X-Amz-Date", amzDate);
        TreeSet<String> names = new TreeSet<>();
        Map<String, List<String>> lower = new LinkedHashMap<>();
        out.forEach((k, v) -> {
            String n = k.toLowerCase(Locale.ROOT);
            names.add(n);
            lower.computeIfAbsent(n, x -> new ArrayList<>()).add(v);
        });
        List<String> signed = List.copyOf(names);
        CredentialScope scope = new CredentialScope(accessKeyId, amzDate.substring(0, 8), region, service);
        boolean s3 = service.equals("s3");
        String canonical = CanonicalRequest.build(new HttpRequestView(method, rawPath, rawQuery, lower), signed, payloadHash, !s3, !s3);
        String signature = SigV4.signatureHex(signingKey(scope), SigV4.stringToSign(amzDate, scope, canonical));
        out.put("Authorization", SigV4.ALGORITHM + " Credential=" + accessKeyId + "/" + scope.scope() + ", SignedHeaders="
                + String.join(";", signed) + ", Signature=" + signature);
        return out;
    }

    /** Returns the query string of a presigned URL (the given query plus the X-Amz-* parameters), signing only {@code host}. */
    public String presignQuery(String method, String rawPath, String rawQuery, String host, long expiresSeconds, Instant at) {
        String amzDate = SigV4.amzDate(at);
        CredentialScope scope = new CredentialScope(accessKeyId, amzDate.substring(0, 8), region, service);
        StringBuilder q = new StringBuilder(rawQuery);
        if (!q.isEmpty()) {
            q.append('&');
        }
        q.append("X-Amz-Algorithm=").append(SigV4.ALGORITHM)
                .append("&X-Amz-Credential=").append(Rfc3986.encode(accessKeyId + "/" + scope.scope(), false))
                .append("&X-Amz-Date=").append(amzDate)
                .append("&X-Amz-Expires=").append(expiresSeconds)
                .append("&X-Amz-SignedHeaders=host");
        boolean s3 = service.equals("s3");
        String canonical = CanonicalRequest.build(new HttpRequestView(method, rawPath, q.toString(), Map.of("host", List.of(host))),
                List.of("host"), s3 ? SigV4.UNSIGNED_PAYLOAD : SigV4.EMPTY_SHA256, !s3, !s3);
        String signature = SigV4.signatureHex(signingKey(scope), SigV4.stringToSign(amzDate, scope, canonical));
        return q.append("&X-Amz-Signature=").append(signature).toString();
    }

    private byte[] signingKey(CredentialScope scope) {
        return SigV4.signingKey(secret.revealBytes(), scope.date(), scope.region(), scope.service());
    }
}
