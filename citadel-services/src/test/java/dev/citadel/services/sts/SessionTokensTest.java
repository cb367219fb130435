package dev.citadel.services.sts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.core.AccountId;
import dev.citadel.core.Ids;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.pipeline.Principal;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

class SessionTokensTest {
    /** AES-256-GCM with the context as associated data, as the server's sealer does. */
    static final class GcmSealer implements SecretSealer {
        private final SecretKeySpec key;

        GcmSealer(byte[] key) {
            this.key = new SecretKeySpec(key, "AES");
        }

        @Override
        public byte[] seal(SecretBytes secret, String context) {
            try {
                byte[] iv = new byte[12];
                new SecureRandom().nextBytes(iv);
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
                c.updateAAD(context.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                byte[] ct = c.doFinal(secret.revealBytes());
                byte[] out = new byte[12 + ct.length];
                System.arraycopy(iv, 0, out, 0, 12);
                System.arraycopy(ct, 0, out, 12, ct.length);
                return out;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public SecretBytes unseal(byte[] sealed, String context) {
            try {
                if (sealed.length < 28) {
                    throw new IllegalArgumentException("the sealed value does not open");
                }
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, sealed, 0, 12));
                c.updateAAD(context.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                return SecretBytes.copyOf(c.doFinal(sealed, 12, sealed.length - 12));
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalArgumentException("the sealed value does not open");
            }
        }
    }

    static SessionTokens tokens(byte key) {
        byte[] k = new byte[32];
        java.util.Arrays.fill(k, key);
        return new SessionTokens(new GcmSealer(k), new Ids(new SecureRandom()));
    }

    static final Principal.Session SESSION = new Principal.Session("arn:aws:iam::111122223333:role/R", "s",
            Instant.parse("2026-11-29T00:00:00Z"), Instant.parse("2026-11-29T01:00:00Z"), Optional.of(Instant.parse("2026-11-29T00:00:00Z")),
            List.of("{\"Version\":\"2012-10-17\",\"Statement\":[]}"), List.of("arn:aws:iam::aws:policy/ReadOnlyAccess"), Optional.of("alice"),
            true);

    @Test
    void aTokenOpensToTheSessionItDescribes() {
        SessionTokens t = tokens((byte) 1);
        SessionTokens.Credentials c = t.issue("AssumedRole", new AccountId("111122223333"), "AROAEXAMPLE:s",
                "arn:aws:sts::111122223333:assumed-role/R/s", "R", Map.of("team", "vision"), SESSION);
        assertThat(c.accessKeyId()).startsWith("ASIA");
        SessionTokens.Opened o = t.open(c.accessKeyId(), c.sessionToken()).orElseThrow();
        assertThat(o.secretAccessKey().sameAs(c.secretAccessKey())).isTrue();
        assertThat(o.principal().arn()).isEqualTo("arn:aws:sts::111122223333:assumed-role/R/s");
        assertThat(o.principal().tags()).containsEntry("team", "vision");
        assertThat(o.principal().session()).contains(SESSION);
        assertThat(c.sessionToken()).doesNotContain(c.secretAccessKey().revealUtf8());
    }

    @Test
    void aTokenDoesNotOpenForAnotherKeyAnotherServerOrAfterAnyChange() {
        SessionTokens t = tokens((byte) 1);
        SessionTokens.Credentials c = t.issue("IAMUser", new AccountId("111122223333"), "AIDAEXAMPLE", "arn:aws:iam::111122223333:user/a",
                "a", Map.of(), SESSION);
        assertThat(t.open("ASIAOTHERKEY0000000", c.sessionToken())).isEmpty();
        assertThat(tokens((byte) 2).open(c.accessKeyId(), c.sessionToken())).isEmpty();
        String token = c.sessionToken();
        for (int i = 4; i < token.length() - 2; i += 7) {
            char flipped = token.charAt(i) == 'A' ? 'B' : 'A';
            String changed = token.substring(0, i) + flipped + token.substring(i + 1);
            assertThat(t.open(c.accessKeyId(), changed)).as("changed at %d", i).isEmpty();
        }
        assertThat(t.open(c.accessKeyId(), "CTZ1")).isEmpty();
        assertThat(t.open(c.accessKeyId(), "CTZ1!!!")).isEmpty();
        assertThat(t.open(c.accessKeyId(), "x".repeat(SessionTokens.MAX_TOKEN_LENGTH + 1))).isEmpty();
    }
}
