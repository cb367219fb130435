package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import java.io.IOException;

/** A JSON object sealed under the secrets key, bound to a context (what it is and whose). */
record SealedJson(SecretSealer sealer) {
    byte[] seal(ObjectNode body, String context) {
        return sealer.seal(SecretBytes.ofUtf8(body.toString()), context);
    }

    ObjectNode open(byte[] sealed, String context) {
        SecretBytes plain = sealer.unseal(sealed, context);
        try {
            return (ObjectNode) Jobs.JSON.readTree(plain.revealUtf8());
        } catch (IOException e) {
            throw new IllegalStateException("a sealed body is not JSON", e);
        } finally {
            plain.destroy();
        }
    }
}
