package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.services.TestSupport;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SealedJsonTest {
    /** Counts the unseals that reach the sealer; refuses a context other than the one sealed with. */
    private static final class CountingSealer implements SecretSealer {
        final TestSupport.MarkingSealer inner = new TestSupport.MarkingSealer();
        final AtomicInteger unseals = new AtomicInteger();

        @Override
        public byte[] seal(SecretBytes secret, String context) {
            return inner.seal(secret, context);
        }

        @Override
        public SecretBytes unseal(byte[] sealed, String context) {
            unseals.incrementAndGet();
            return inner.unseal(sealed, context);
        }
    }

    private static ObjectNode body(String value) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.putObject("HyperParameters").put("epochs", value);
        return n;
    }

    @Test
    void theSameCiphertextAndContextOpenOnceAndCallersCannotChangeWhatLaterCallersGet() {
        CountingSealer sealer = new CountingSealer();
        SealedJson json = new SealedJson(sealer);
        byte[] sealed = json.seal(body("3"), "job:a");

        ObjectNode first = json.open(sealed, "job:a");
        ((ObjectNode) first.get("HyperParameters")).put("epochs", "changed by a caller");
        ObjectNode second = json.open(sealed.clone(), "job:a");

        assertThat(second).isEqualTo(body("3"));
        assertThat(sealer.unseals).hasValue(1);
    }

    @Test
    void anotherContextOrOtherBytesAreOpenedAgainAndRefusedAsTheSealerRefuses() {
        CountingSealer sealer = new CountingSealer();
        SealedJson json = new SealedJson(sealer);
        byte[] sealed = json.seal(body("3"), "job:a");
        json.open(sealed, "job:a");

        assertThatThrownBy(() -> json.open(sealed, "job:b")).isInstanceOf(IllegalArgumentException.class);
        byte[] resealed = json.seal(body("4"), "job:a");
        assertThat(json.open(resealed, "job:a")).isEqualTo(body("4"));
        assertThat(sealer.unseals).hasValue(3);
    }

    @Test
    void theCacheIsBounded() {
        CountingSealer sealer = new CountingSealer();
        SealedJson json = new SealedJson(sealer);
        byte[] oldest = json.seal(body("0"), "job:0");
        json.open(oldest, "job:0");
        for (int i = 1; i <= SealedJson.CACHED; i++) {
            json.open(json.seal(body(Integer.toString(i)), "job:" + i), "job:" + i);
        }
        int before = sealer.unseals.get();
        assertThat(json.open(oldest, "job:0")).isEqualTo(body("0"));
        assertThat(sealer.unseals.get()).as("the eldest entry was evicted and is opened again").isEqualTo(before + 1);
    }
}
