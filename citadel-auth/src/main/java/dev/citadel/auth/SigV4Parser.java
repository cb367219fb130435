package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.AMBIGUOUS_AUTHENTICATION;
import static dev.citadel.auth.AuthException.Kind.INCOMPLETE_SIGNATURE;
import static dev.citadel.auth.AuthException.Kind.MISSING_AUTHENTICATION;
import static dev.citadel.auth.AuthException.Kind.QUERY_PARAMETERS_MALFORMED;
import static dev.citadel.auth.AuthException.Kind.UNSUPPORTED_SIGNATURE_VERSION;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a SigV4 signature from a request without verifying it:
 * <ul>
 *   <li>header: {@code Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
 *       SignedHeaders=host;x-amz-date, Signature=<64 hex>} with the time in {@code X-Amz-Date} (or {@code Date});</li>
 *   <li>presigned query: {@code X-Amz-Algorithm}, {@code X-Amz-Credential}, {@code X-Amz-Date},
 *       {@code X-Amz-Expires} (1 to 604800 seconds), {@code X-Amz-SignedHeaders}, {@code X-Amz-Signature}.</li>
 * </ul>
 * SigV2 in either place is refused as unsupported; a request with neither is unauthenticated.
 */
public final class SigV4Parser {
    public static final long MAX_PRESIGNED_EXPIRES = 604_800;
    private static final int MAX_AUTHORIZATION = 8192;

    private SigV4Parser() {
    }

    public static SigV4Authorization parse(HttpRequestView request) {
        String authorization = request.header("authorization");
        boolean presigned = request.rawQuery().contains("X-Amz-Algorithm=") || request.rawQuery().contains("X-Amz-Credential=");
        if (authorization != null) {
            if (presigned) {
                throw new AuthException(AMBIGUOUS_AUTHENTICATION, "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                        + "parameter or the Authorization header should be specified.");
            }
            if (request.headers().get("authorization").size() > 1) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "Only one Authorization header is allowed.");
            }
            return fromHeader(request, authorization);
        }
        if (presigned) {
            try {
                return fromQuery(request);
            } catch (AuthException e) {
                // S3 names every fault of the query's parameters (the credential scope's too) alike
                throw e.kind() == INCOMPLETE_SIGNATURE ? new AuthException(QUERY_PARAMETERS_MALFORMED, e.getMessage()) : e;
            }
        }
        if (request.rawQuery().contains("Signature=") || request.rawQuery().contains("AWSAccessKeyId=")) {
            throw new AuthException(UNSUPPORTED_SIGNATURE_VERSION, "Signature Version 2 is not supported.");
        }
        throw new AuthException(MISSING_AUTHENTICATION, "Request is missing Authentication Token");
    }

    private static SigV4Authorization fromHeader(HttpRequestView request, String header) {
        if (header.length() > MAX_AUTHORIZATION) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header is too long.");
        }
        if (header.startsWith("AWS ") || header.startsWith("AWS3")) {
            throw new AuthException(UNSUPPORTED_SIGNATURE_VERSION, "Signature Version 2 is not supported.");
        }
        if (!header.startsWith(SigV4.ALGORITHM + " ")) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header requires the AWS4-HMAC-SHA256 algorithm.");
        }
        Map<String, String> parts = new HashMap<>();
        for (String part : header.substring(SigV4.ALGORITHM.length() + 1).split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header requires each component to be key=value.");
            }
            if (parts.put(p.substring(0, eq), p.substring(eq + 1)) != null) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header has a repeated component: " + p.substring(0, eq) + ".");
            }
        }
        String credential = required(parts.get("Credential"), "Authorization header requires 'Credential' parameter.");
        String signedHeaders = required(parts.get("SignedHeaders"), "Authorization header requires 'SignedHeaders' parameter.");
        String signature = required(parts.get("Signature"), "Authorization header requires 'Signature' parameter.");
        String amzDate = request.header("x-amz-date");
        Instant signedAt;
        List<String> signed = signedHeaders(signedHeaders);
        if (amzDate != null) {
            signedAt = parseAmzDate(amzDate);
            if (!signed.contains("x-amz-date")) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header requires x-amz-date to be a signed header.");
            }
        } else {
            String date = required(request.header("date"),
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
            try {
                signedAt = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            } catch (DateTimeParseException e) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "The Date header is not a valid date.");
            }
            if (!signed.contains("date")) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "Authorization header requires date to be a signed header.");
            }
            amzDate = SigV4.amzDate(signedAt);
        }
        CredentialScope scope = scope(credential, amzDate);
        return new SigV4Authorization(scope, signed, signature(signature), amzDate, signedAt, false, 0,
                Optional.ofNullable(request.header("x-amz-security-token")));
    }

    private static SigV4Authorization fromQuery(HttpRequestView request) {
        Map<String, String> q = new HashMap<>();
        for (String pair : request.rawQuery().split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (name.startsWith("X-Amz-")) {
                String value = Rfc3986.decode(eq < 0 ? "" : pair.substring(eq + 1));
                if (value == null) {
                    throw new AuthException(INCOMPLETE_SIGNATURE, "The query parameter " + name + " is malformed.");
                }
                if (q.put(name, value) != null) {
                    throw new AuthException(INCOMPLETE_SIGNATURE, "The query parameter " + name + " is repeated.");
                }
            }
        }
        String algorithm = required(q.get("X-Amz-Algorithm"), "Query-string authentication requires the X-Amz-Algorithm parameter.");
        if (!algorithm.equals(SigV4.ALGORITHM)) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\".");
        }
        String credential = required(q.get("X-Amz-Credential"), "Query-string authentication requires the X-Amz-Credential parameter.");
        String amzDate = required(q.get("X-Amz-Date"), "Query-string authentication requires the X-Amz-Date parameter.");
        String expires = required(q.get("X-Amz-Expires"), "Query-string authentication requires the X-Amz-Expires parameter.");
        String signedHeaders = required(q.get("X-Amz-SignedHeaders"),
                "Query-string authentication requires the X-Amz-SignedHeaders parameter.");
        String signature = required(q.get("X-Amz-Signature"), "Query-string authentication requires the X-Amz-Signature parameter.");
        long expiresSeconds;
        try {
            expiresSeconds = Long.parseLong(expires);
        } catch (NumberFormatException e) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "X-Amz-Expires should be a number.");
        }
        if (expiresSeconds < 1) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "X-Amz-Expires must be non-negative.");
        }
        if (expiresSeconds > MAX_PRESIGNED_EXPIRES) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "X-Amz-Expires must be less than a week (in seconds) that is 604800.");
        }
        Instant signedAt = parseAmzDate(amzDate);
        return new SigV4Authorization(scope(credential, amzDate), signedHeaders(signedHeaders), signature(signature), amzDate,
                signedAt, true, expiresSeconds, Optional.ofNullable(q.get("X-Amz-Security-Token")));
    }

    private static CredentialScope scope(String credential, String amzDate) {
        String[] c = credential.split("/", -1);
        if (c.length != 5 || c[0].isEmpty() || c[1].length() != 8 || c[2].isEmpty() || c[3].isEmpty() || !c[4].equals("aws4_request")) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "Credential should be scoped to a valid region, service and "
                    + "date: <access key>/<yyyymmdd>/<region>/<service>/aws4_request.");
        }
        if (c[0].length() > 128 || c[2].length() > 64 || c[3].length() > 64) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "Credential is malformed.");
        }
        if (!amzDate.startsWith(c[1])) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
        }
        return new CredentialScope(c[0], c[1], c[2], c[3]);
    }

    private static List<String> signedHeaders(String list) {
        List<String> names = new ArrayList<>();
        String previous = "";
        for (String name : list.split(";", -1)) {
            if (name.isEmpty() || !name.equals(name.toLowerCase(java.util.Locale.ROOT)) || name.compareTo(previous) <= 0) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "SignedHeaders must be lower-case, sorted and unique.");
            }
            names.add(name);
            previous = name;
        }
        if (!names.contains("host")) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "SignedHeaders must include host.");
        }
        return names;
    }

    private static String signature(String signature) {
        if (signature.length() != 64) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "The signature must be 64 hexadecimal characters.");
        }
        for (int i = 0; i < 64; i++) {
            char ch = signature.charAt(i);
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
                throw new AuthException(INCOMPLETE_SIGNATURE, "The signature must be 64 lower-case hexadecimal characters.");
            }
        }
        return signature;
    }

    private static Instant parseAmzDate(String amzDate) {
        try {
            return ZonedDateTime.parse(amzDate, SigV4.AMZ_DATE).toInstant();
        } catch (DateTimeParseException e) {
            throw new AuthException(INCOMPLETE_SIGNATURE, "X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.");
        }
    }

    private static String required(String value, String message) {
        if (value == null || value.isEmpty()) {
            throw new AuthException(INCOMPLETE_SIGNATURE, message);
        }
        return value;
    }
}
