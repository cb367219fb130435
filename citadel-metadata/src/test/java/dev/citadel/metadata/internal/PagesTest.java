package dev.citadel.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.Page;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PagesTest {
    @Test
    void tokenCarriesTheLastKeyOfItsListing() {
        String token = Pages.encode("iam-users", "alice+ops@x");
        assertThat(token).matches("[A-Za-z0-9_-]+");
        assertThat(Pages.after("iam-users", Optional.of(token), 10)).isEqualTo("alice+ops@x");
    }

    @Test
    void firstPageStartsBeforeEveryKey() {
        assertThat(Pages.after("iam-users", Optional.empty(), 10)).isEmpty();
    }

    @Test
    void tokenOfAnotherListingIsRefused() {
        String token = Pages.encode("iam-roles", "alice");
        assertThatThrownBy(() -> Pages.after("iam-users", Optional.of(token), 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("invalid pagination token");
    }

    @Test
    void tokenThatIsNotUtf8IsRefused() {
        String token = java.util.Base64.getUrlEncoder().encodeToString(new byte[] {'v', '1', ':', 'x', ':', (byte) 0xff});
        assertThatThrownBy(() -> Pages.after("x", Optional.of(token), 10)).hasMessage("invalid pagination token");
    }

    @Test
    void fullPageGetsATokenForTheRowAfterIt() {
        Page<String> page = Pages.of("letters", List.of("a", "b", "c"), 2, s -> s);
        assertThat(page.items()).containsExactly("a", "b");
        assertThat(page.nextToken().map(t -> Pages.after("letters", Optional.of(t), 2))).contains("b");
    }

    @Test
    void shortPageHasNoToken() {
        Page<String> page = Pages.of("letters", List.of("a", "b"), 2, s -> s);
        assertThat(page.items()).containsExactly("a", "b");
        assertThat(page.nextToken()).isEmpty();
    }
}
