package dev.citadel.auth;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The SigV4 canonical request:
 * <pre>
 * METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
 * </pre>
 * <ul>
 *   <li>CanonicalURI: for every service but S3, the received path with dot segments and duplicate
 *       slashes removed, then percent-encoded again (so {@code %20} becomes {@code %2520}, as the
 *       AWS SDKs sign it). For S3 the received path is used exactly as it is.</li>
 *   <li>CanonicalQuery: each parameter's escapes decoded to bytes, then both name and value
 *       encoded per RFC 3986 (a byte that is not UTF-8 keeps its value), sorted by name then value; a parameter without {@code =} has an empty value; the
 *       presigned {@code X-Amz-Signature} is left out.</li>
 *   <li>CanonicalHeaders: each signed header as {@code name:value\n}, the values of a repeated
 *       header joined by commas, each trimmed with inner runs of spaces collapsed to one.</li>
 * </ul>
 */
public final class CanonicalRequest {
    private static final int MAX_QUERY_PARAMETERS = 1000;

    private CanonicalRequest() {
    }

    public static String build(HttpRequestView request, List<String> signedHeaders, String payloadHash, boolean normalizePath,
            boolean encodePath) {
        return build(request, signedHeaders, payloadHash, normalizePath, encodePath, false);
    }

    /**
     * @param tokenAddedAfterSigning leave {@code X-Amz-Security-Token} out of the canonical query, for
     *                               presigned URLs whose client appended the token after signing
     */
    public static String build(HttpRequestView request, List<String> signedHeaders, String payloadHash, boolean normalizePath,
            boolean encodePath, boolean tokenAddedAfterSigning) {
        StringBuilder sb = new StringBuilder(512);
        sb.append(request.method()).append('\n');
        sb.append(canonicalUri(request.rawPath(), normalizePath, encodePath)).append('\n');
        sb.append(canonicalQuery(request.rawQuery(), tokenAddedAfterSigning)).append('\n');
        for (String name : signedHeaders) {
            List<String> values = request.headers().get(name);
            if (values == null) {
                throw new AuthException(AuthException.Kind.SIGNATURE_MISMATCH, "The request signature we calculated does not match "
                        + "the signature you provided: signed header '" + name + "' is not in the request.");
            }
            sb.append(name).append(':');
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                appendTrimmed(sb, values.get(i));
            }
            sb.append('\n');
        }
        sb.append('\n').append(String.join(";", signedHeaders)).append('\n').append(payloadHash);
        return sb.toString();
    }

    static String canonicalUri(String rawPath, boolean normalize, boolean encode) {
        String path = rawPath.isEmpty() ? "/" : rawPath;
        if (normalize) {
            path = removeDotSegments(path);
        }
        return encode ? Rfc3986.encode(path, true) : path;
    }

    /** RFC 3986 §5.2.4 dot-segment removal, with empty segments (duplicate slashes) dropped. */
    static String removeDotSegments(String path) {
        Deque<String> out = new ArrayDeque<>();
        String[] segments = path.split("/", -1);
        for (String seg : segments) {
            if (seg.isEmpty() || seg.equals(".")) {
                continue;
            }
            if (seg.equals("..")) {
                out.pollLast();
            } else {
                out.addLast(seg);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String seg : out) {
            sb.append('/').append(seg);
        }
        boolean trailing = path.endsWith("/") || path.endsWith("/.") || path.endsWith("/..");
        if (sb.isEmpty() || trailing) {
            sb.append('/');
        }
        return sb.toString();
    }

    static String canonicalQuery(String rawQuery, boolean withoutToken) {
        if (rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> params = new ArrayList<>();
        int start = 0;
        while (start <= rawQuery.length()) {
            int amp = rawQuery.indexOf('&', start);
            int end = amp < 0 ? rawQuery.length() : amp;
            if (end > start) {
                String pair = rawQuery.substring(start, end);
                int eq = pair.indexOf('=');
                String name = canonicalOrFail(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : canonicalOrFail(pair.substring(eq + 1));
                if (!name.equals("X-Amz-Signature") && !(withoutToken && name.equals("X-Amz-Security-Token"))) {
                    params.add(new String[] {name, value});
                }
                if (params.size() > MAX_QUERY_PARAMETERS) {
                    throw new AuthException(AuthException.Kind.INCOMPLETE_SIGNATURE, "The query string has too many parameters.");
                }
            }
            if (amp < 0) {
                break;
            }
            start = amp + 1;
        }
        params.sort((a, b) -> {
            int c = a[0].compareTo(b[0]);
            return c != 0 ? c : a[1].compareTo(b[1]);
        });
        StringBuilder sb = new StringBuilder(rawQuery.length() + 16);
        for (int i = 0; i < params.size(); i++) {
            if (i > 0) {
                sb.append('&');
            }
            sb.append(params.get(i)[0]).append('=').append(params.get(i)[1]);
        }
        return sb.toString();
    }

    private static String canonicalOrFail(String s) {
        String d = Rfc3986.canonicalize(s);
        if (d == null) {
            throw new AuthException(AuthException.Kind.INCOMPLETE_SIGNATURE, "The query string contains a malformed percent-encoding.");
        }
        return d;
    }

    private static void appendTrimmed(StringBuilder sb, String value) {
        int start = 0;
        int end = value.length();
        while (start < end && isSpace(value.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(value.charAt(end - 1))) {
            end--;
        }
        boolean lastSpace = false;
        for (int i = start; i < end; i++) {
            char c = value.charAt(i);
            if (isSpace(c)) {
                if (!lastSpace) {
                    sb.append(' ');
                }
                lastSpace = true;
            } else {
                sb.append(c);
                lastSpace = false;
            }
        }
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
