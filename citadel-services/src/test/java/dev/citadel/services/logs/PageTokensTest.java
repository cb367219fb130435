package dev.citadel.services.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.AwsException;
import dev.citadel.services.logs.PageTokens.Cursor;
import org.junit.jupiter.api.Test;

/** Pagination tokens round-trip within their scope and are refused anywhere else or when changed. */
class PageTokensTest {
    private static void refused(String scope, String prefix, String token) {
        assertThatThrownBy(() -> PageTokens.decode(scope, prefix, token)).isInstanceOfSatisfying(AwsException.class, e -> {
            assertThat(e.code()).isEqualTo("InvalidParameterException");
            assertThat(e.getMessage()).isEqualTo("The specified nextToken is invalid.");
        });
    }

    @Test
    void aTokenRoundTripsInItsScope() {
        Cursor c = new Cursor(42, 1_700_000_000_123L, "job-ä/algo-1-1700000000");
        String token = PageTokens.encode("s", "f/", c);
        assertThat(token).startsWith("f/");
        assertThat(PageTokens.decode("s", "f/", token)).isEqualTo(c);
    }

    @Test
    void aTokenOfAnotherScopeOrDirectionIsRefused() {
        String token = PageTokens.encode("stream-a", "f/", new Cursor(1, 0, ""));
        refused("stream-b", "f/", token);
        refused("stream-a", "b/", "b/" + token.substring(2));
    }

    @Test
    void anyChangedCharacterIsRefused() {
        String token = PageTokens.encode("s", "", new Cursor(7, 9, "name"));
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            String changed = token.substring(0, i) + (c == 'A' ? 'B' : 'A') + token.substring(i + 1);
            if (!changed.equals(token)) {
                refused("s", "", changed);
            }
        }
    }

    @Test
    void garbageIsRefused() {
        refused("s", "", "");
        refused("s", "", "not base64 !");
        refused("s", "", "AAAA");
        refused("s", "f/", "x/AAAA");
        refused("s", "", "A".repeat(PageTokens.MAX_TOKEN + 1));
    }
}
