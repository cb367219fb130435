package dev.citadel.metadata.internal;

import dev.citadel.metadata.Page;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Keyset pagination. A listing is ordered by a unique text key; a page asks for one row more than
 * it returns to learn whether another page follows, and the token of the next page is the last
 * key returned, as {@code base64url("v1:" + listing + ":" + key)}. The listing name keeps a token
 * of one listing from being accepted by another. Tokens are opaque to clients but not secret:
 * a forged one only moves the start of a listing the caller may read anyway.
 */
public final class Pages {
    public static final int MAX_PAGE_SIZE = 1000;
    private static final int MAX_TOKEN_LENGTH = 2048;
    private static final String VERSION = "v1:";

    private Pages() {
    }

    /** The key to list after: empty string for the first page. */
    public static String after(String listing, Optional<String> token, int maxItems) {
        if (maxItems < 1 || maxItems > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException("page size must be between 1 and " + MAX_PAGE_SIZE + ", got " + maxItems);
        }
        return token.map(t -> decode(listing, t)).orElse("");
    }

    /** A page of {@code maxItems} from {@code rows}, which holds up to {@code maxItems + 1} rows. */
    public static <T> Page<T> of(String listing, List<T> rows, int maxItems, Function<T, String> key) {
        if (rows.size() <= maxItems) {
            return new Page<>(rows, Optional.empty());
        }
        List<T> items = rows.subList(0, maxItems);
        return new Page<>(items, Optional.of(encode(listing, key.apply(items.getLast()))));
    }

    static String encode(String listing, String key) {
        byte[] raw = (VERSION + listing + ":" + key).getBytes(StandardCharsets.UTF_8);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    }

    static String decode(String listing, String token) {
        String prefix = VERSION + listing + ":";
        try {
            if (token.length() > MAX_TOKEN_LENGTH) {
                throw new IllegalArgumentException();
            }
            String raw = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Base64.getUrlDecoder().decode(token)))
                    .toString();
            if (!raw.startsWith(prefix) || raw.length() == prefix.length()) {
                throw new IllegalArgumentException();
            }
            return raw.substring(prefix.length());
        } catch (IllegalArgumentException | CharacterCodingException e) {
            throw new IllegalArgumentException("invalid pagination token");
        }
    }
}
