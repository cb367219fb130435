package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The response record: headers kept in order and unmodifiable, and nothing that could split the header block. */
class EncodedResponseTest {
    @Test
    void headersKeepTheOrderTheyWereGivenIn() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("z-last-alphabetically", "1");
        headers.put("a-first-alphabetically", "2");
        headers.put("m-middle", "3");
        EncodedResponse r = new EncodedResponse(200, "text/xml", headers, new byte[0]);
        assertThat(r.headers().keySet()).containsExactly("z-last-alphabetically", "a-first-alphabetically", "m-middle");
    }

    @Test
    void headersAreCopiedAndUnmodifiable() {
        Map<String, String> headers = new LinkedHashMap<>(Map.of("a", "1"));
        EncodedResponse r = new EncodedResponse(200, "", headers, new byte[0]);
        headers.put("b", "2");
        assertThat(r.headers()).containsExactly(Map.entry("a", "1"));
        assertThatThrownBy(() -> r.headers().put("c", "3")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void ofPairsNamesWithValuesInOrder() {
        EncodedResponse r = EncodedResponse.of(404, "application/xml", new byte[] {1}, "x-b", "1", "x-a", "2");
        assertThat(r.headers().entrySet()).containsExactly(Map.entry("x-b", "1"), Map.entry("x-a", "2"));
        assertThat(r.status()).isEqualTo(404);
    }

    @Test
    void headerValueWithCarriageReturnOrNewlineIsRefused() {
        assertThatThrownBy(() -> EncodedResponse.of(400, "", new byte[0], "X-Amzn-ErrorType", "Code\r\nSet-Cookie: a=b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EncodedResponse.of(400, "", new byte[0], "x", "a\nb")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void headerNameThatIsNotAnHttpTokenIsRefused() {
        assertThatThrownBy(() -> EncodedResponse.of(200, "", new byte[0], "x y", "1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EncodedResponse.of(200, "", new byte[0], "x:y", "1")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EncodedResponse.of(200, "", new byte[0], "", "1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void contentTypeWithNewlineIsRefused() {
        assertThatThrownBy(() -> new EncodedResponse(200, "text/xml\r\nX: y", Map.of(), new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void statusOutsideOneHundredToFiveNinetyNineIsRefused() {
        assertThatThrownBy(() -> new EncodedResponse(99, "", Map.of(), new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EncodedResponse(600, "", Map.of(), new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unpairedHeaderArgumentsAreRefused() {
        assertThatThrownBy(() -> EncodedResponse.of(200, "", new byte[0], "x")).isInstanceOf(IllegalArgumentException.class);
    }
}
