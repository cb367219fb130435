package dev.citadel.metadata;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Opaque pagination tokens: the last key of the previous page, versioned and base64url-encoded.
 * A token that does not decode is an {@link IllegalArgumentException}, which services turn into
 * their own "invalid token" error.
 */
public final class PageTokens {
    private static final String PREFIX = "v1:";
    private static final int MAX_TOKEN = 1024;

    private PageTokens() {
    }

    public static String encode(String lastKey) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((PREFIX + lastKey).getBytes(StandardCharsets.UTF_8));
    }

    public static String decode(String token) {
        if (token.length() > MAX_TOKEN) {
            throw new IllegalArgumentException("invalid pagination token");
        }
        try {
            String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (!raw.startsWith(PREFIX)) {
                throw new IllegalArgumentException("invalid pagination token");
            }
            return raw.substring(PREFIX.length());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid pagination token");
        }
    }
}
