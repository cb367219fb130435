package dev.citadel.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class IdsTest {
    private final Ids ids = new Ids(new SecureRandom());

    @Test
    void requestIdsAreVersion4UuidsAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = Ids.requestId();
            UUID u = UUID.fromString(id);
            assertThat(u.version()).isEqualTo(4);
            assertThat(u.variant()).isEqualTo(2);
            seen.add(id);
        }
        assertThat(seen).hasSize(10_000);
    }

    @Test
    void iamIdsHaveTheAwsShape() {
        assertThat(ids.iamId("AKIA")).matches("AKIA[A-Z2-7]{16}");
        assertThat(ids.secretAccessKey()).hasSize(40);
        assertThat(ids.accountId().value()).matches("[1-9]\\d{11}");
    }

    @Test
    void accountIdMustBeTwelveDigits() {
        assertThatThrownBy(() -> new AccountId("12345")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new AccountId("12345678901a")).isInstanceOf(IllegalArgumentException.class);
        assertThat(new AccountId("123456789012").value()).isEqualTo("123456789012");
    }

    @Test
    void arnRoundTrips() {
        Arn arn = Arn.parse("arn:aws:iam::123456789012:user/path/bob");
        assertThat(arn.service()).isEqualTo("iam");
        assertThat(arn.account()).isEqualTo("123456789012");
        assertThat(arn.resource()).isEqualTo("user/path/bob");
        assertThat(arn.toString()).isEqualTo("arn:aws:iam::123456789012:user/path/bob");
        assertThatThrownBy(() -> Arn.parse("arn:aws:iam")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void secretBytesNeverPrintThemselves() {
        SecretBytes s = SecretBytes.ofUtf8("hunter2");
        assertThat(s.toString()).doesNotContain("hunter2");
        assertThat(s.sameAs(SecretBytes.ofUtf8("hunter2"))).isTrue();
        assertThat(s.sameAs(SecretBytes.ofUtf8("hunter3"))).isFalse();
    }

    @Test
    void hexRoundTripsAndRefusesNonHex() {
        assertThat(Hex.encode(Hex.decode("00ff10Ab"))).isEqualTo("00ff10ab");
        assertThatThrownBy(() -> Hex.decode("0g")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Hex.decode("abc")).isInstanceOf(IllegalArgumentException.class);
    }
}
