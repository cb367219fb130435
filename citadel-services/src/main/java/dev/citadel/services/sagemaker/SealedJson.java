package dev.citadel.services.sagemaker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JSON object sealed under the secrets key, bound to a context (what it is and whose).
 *
 * <p>Opening is a key unwrap and an authenticated decryption, which dominated Describe* calls. The
 * last {@value #CACHED} bodies opened are kept, keyed by their exact sealed bytes and context: the
 * same ciphertext under the same context always opens to the same body, so a hit returns what the
 * decryption would have (a copy, since callers build answers from it), and a body sealed again
 * (a changed record) is a new key. Nothing is cached that was not first opened and authenticated,
 * the cache lives only in memory, and callers authorize before they open.
 */
final class SealedJson {
    static final int CACHED = 512;
    /** Bodies bigger than this are opened every time rather than held. */
    private static final int MAX_CACHED_BYTES = 64 * 1024;

    private final SecretSealer sealer;
    private final Map<Key, ObjectNode> opened = new LinkedHashMap<>(CACHED * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, ObjectNode> eldest) {
            return size() > CACHED;
        }
    };

    SealedJson(SecretSealer sealer) {
        this.sealer = sealer;
    }

    byte[] seal(ObjectNode body, String context) {
        return sealer.seal(SecretBytes.ofUtf8(body.toString()), context);
    }

    ObjectNode open(byte[] sealed, String context) {
        Key key = new Key(sealed, context);
        synchronized (opened) {
            ObjectNode hit = opened.get(key);
            if (hit != null) {
                return hit.deepCopy();
            }
        }
        SecretBytes plain = sealer.unseal(sealed, context);
        ObjectNode body;
        try {
            body = (ObjectNode) Jobs.JSON.readTree(plain.revealUtf8());
        } catch (IOException e) {
            throw new IllegalStateException("a sealed body is not JSON", e);
        } finally {
            plain.destroy();
        }
        if (sealed.length <= MAX_CACHED_BYTES) {
            ObjectNode kept = body.deepCopy();
            synchronized (opened) {
                opened.put(key, kept);
            }
        }
        return body;
    }

    /** The sealed bytes (copied: the caller's array is not ours to keep) and the context. */
    private static final class Key {
        private final byte[] sealed;
        private final String context;
        private final int hash;

        Key(byte[] sealed, String context) {
            this.sealed = sealed.clone();
            this.context = context;
            this.hash = 31 * Arrays.hashCode(sealed) + context.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.context.equals(context) && Arrays.equals(k.sealed, sealed);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
