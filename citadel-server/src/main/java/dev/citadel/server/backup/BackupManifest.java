package dev.citadel.server.backup;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The table of contents of a backup directory, and what makes it trustworthy.
 *
 * <pre>
 * backup/
 *   manifest.json   this record as UTF-8 JSON, written after every file it lists
 *   manifest.seal   the SHA-256 of manifest.json's bytes sealed under the root key, written last:
 *                   0x01 || nonce (12) || AES-256-GCM ciphertext of the 32 bytes || tag (16), with
 *                   the associated data of AesGcmSecretSealer and the context citadel/backup/manifest/v1
 *   &lt;path&gt;          every file manifest.json lists, byte for byte as listed
 *
 * manifest.json:
 * {
 *   "format": "citadel-backup",
 *   "formatVersion": 1,
 *   "citadelVersion": "0.1.0",                   the build that wrote it
 *   "createdAt": "2026-03-01T10:00:00.123Z",     when the metadata snapshot was taken
 *   "schemaVersion": 20,                         the Flyway version of metadata/citadel.db
 *   "rootKeyProvider": "file" | "pkcs11",        the root key the backup is sealed under
 *   "files": [ {"path": "metadata/citadel.db", "size": 1234, "sha256": "&lt;64 lower-case hex&gt;"}, … ]
 * }
 * </pre>
 *
 * A path is one of these and nothing else, so no entry can name a place outside the backup or the
 * data directory: {@code metadata/citadel.db} (required), {@code citadel.conf},
 * {@code audit/events.jsonl}, {@code objects/hh/<id>} and {@code images/hh/<id>} (an id is 32
 * lower-case hex digits, {@code hh} its first two), {@code marketplace/lst-<20 hex>.artifact} (an
 * active listing's sealed artifact, already ciphertext under the seller's data key), {@code tls/ca.pem}, {@code tls/server.pem},
 * {@code tls/ca-key.pem.sealed}, {@code tls/server-key.pem.sealed},
 * {@code client/credentials.sealed} and {@code keys/root.key} (only in a backup made with
 * {@code --include-root-key}, of a file root key). A {@code .sealed} file is the secret file of
 * that name sealed under the root key (the same format, context
 * {@code citadel/backup/file/v1/<path>}, at most {@value #MAX_SEALED_BYTES} bytes).
 *
 * <p>The manifest is read only after its seal opened and matched: whoever lacks the root key
 * cannot change a listed byte, add or drop a file, nor swap in another backup's manifest without
 * the restore noticing. Parsing is strict all the same (unknown or repeated fields, a path outside
 * the list, a repeated path, more than {@value #MAX_FILES} files or a manifest over
 * {@value #MAX_MANIFEST_BYTES} bytes are refused), since the manifest of a backup whose root key
 * is inside it proves nothing.
 */
public record BackupManifest(int formatVersion, String citadelVersion, Instant createdAt, int schemaVersion, String rootKeyProvider,
        List<Entry> files) {
    public static final String FORMAT = "citadel-backup";
    public static final int FORMAT_VERSION = 1;
    public static final String MANIFEST = "manifest.json";
    public static final String SEAL = "manifest.seal";
    public static final String DATABASE = "metadata/citadel.db";
    public static final String CONFIG = "citadel.conf";
    public static final String AUDIT_LOG = "audit/events.jsonl";
    public static final String ROOT_KEY = "keys/root.key";
    public static final String SEALED_SUFFIX = ".sealed";
    public static final int MAX_MANIFEST_BYTES = 256 << 20;
    public static final int MAX_FILES = 2_000_000;
    public static final int MAX_SEAL_BYTES = 1024;
    public static final int MAX_SEALED_BYTES = 16 * 1024;
    static final String MANIFEST_CONTEXT = "citadel/backup/manifest/v1";
    static final String FILE_CONTEXT = "citadel/backup/file/v1/";

    private static final Pattern BLOB = Pattern.compile("(objects|images)/([0-9a-f]{2})/(\\2[0-9a-f]{30})");
    private static final Pattern ARTIFACT = Pattern.compile("marketplace/lst-[0-9a-f]{20}\\.artifact");
    private static final Set<String> NAMED = Set.of(DATABASE, CONFIG, AUDIT_LOG, ROOT_KEY, "tls/ca.pem", "tls/server.pem",
            "tls/ca-key.pem" + SEALED_SUFFIX, "tls/server-key.pem" + SEALED_SUFFIX, "client/credentials" + SEALED_SUFFIX);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern VERSION = Pattern.compile("[0-9A-Za-z.+_-]{1,64}");
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** One file of the backup: its path in the backup, its length and the SHA-256 of its bytes. */
    public record Entry(String path, long size, String sha256) {
        public Entry {
            requireNonNull(path, "path is null");
            requireNonNull(sha256, "sha256 is null");
            if (!isAllowedPath(path)) {
                throw new BackupException("manifest.json lists a file a backup never holds: " + printable(path));
            }
            if (size < 0) {
                throw new BackupException("manifest.json gives " + path + " a negative size");
            }
            if (!SHA256.matcher(sha256).matches()) {
                throw new BackupException("manifest.json gives " + path + " a malformed SHA-256");
            }
        }

        /** Whether this file is a secret file sealed under the root key (restored as its plaintext, without the suffix). */
        public boolean sealed() {
            return path.endsWith(SEALED_SUFFIX);
        }

        /** The file's path in the data directory (without {@code .sealed}). */
        public String dataPath() {
            return sealed() ? path.substring(0, path.length() - SEALED_SUFFIX.length()) : path;
        }
    }

    public BackupManifest {
        requireNonNull(citadelVersion, "citadelVersion is null");
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(rootKeyProvider, "rootKeyProvider is null");
        files = List.copyOf(files);
        if (formatVersion != FORMAT_VERSION) {
            throw new BackupException("this backup has format version " + formatVersion + "; this Citadel reads version " + FORMAT_VERSION
                    + (formatVersion > FORMAT_VERSION ? " (restore it with the Citadel that made it, " + printable(citadelVersion) + ", or newer)" : ""));
        }
        if (!VERSION.matcher(citadelVersion).matches()) {
            throw new BackupException("manifest.json has a malformed citadelVersion");
        }
        if (schemaVersion < 1) {
            throw new BackupException("manifest.json has no schema version");
        }
        if (!rootKeyProvider.equals("file") && !rootKeyProvider.equals("pkcs11")) {
            throw new BackupException("manifest.json names an unknown root key provider");
        }
        if (files.size() > MAX_FILES) {
            throw new BackupException("manifest.json lists more than " + MAX_FILES + " files");
        }
        Set<String> seen = new HashSet<>();
        for (Entry e : files) {
            if (!seen.add(e.path())) {
                throw new BackupException("manifest.json lists " + e.path() + " twice");
            }
        }
        if (!seen.contains(DATABASE)) {
            throw new BackupException("manifest.json lists no " + DATABASE);
        }
        if (seen.contains(ROOT_KEY) && !rootKeyProvider.equals("file")) {
            throw new BackupException("manifest.json holds a root key file, but the backup is sealed under a PKCS#11 token's key");
        }
    }

    /** Whether a backup may hold a file at {@code path} (see the class comment). */
    public static boolean isAllowedPath(String path) {
        return NAMED.contains(path) || BLOB.matcher(path).matches() || ARTIFACT.matcher(path).matches();
    }

    /** The entry of {@code path}, if listed. */
    public java.util.Optional<Entry> entry(String path) {
        return files.stream().filter(e -> e.path().equals(path)).findFirst();
    }

    /** The manifest as the bytes of manifest.json. */
    public byte[] toJson() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + files.size() * 140);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeNumberField("formatVersion", formatVersion);
            g.writeStringField("citadelVersion", citadelVersion);
            g.writeStringField("createdAt", createdAt.toString());
            g.writeNumberField("schemaVersion", schemaVersion);
            g.writeStringField("rootKeyProvider", rootKeyProvider);
            g.writeArrayFieldStart("files");
            for (Entry e : files) {
                g.writeStartObject();
                g.writeStringField("path", e.path());
                g.writeNumberField("size", e.size());
                g.writeStringField("sha256", e.sha256());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** Parses the bytes of manifest.json strictly (see the class comment); any fault is a {@link BackupException}. */
    public static BackupManifest parse(byte[] json) {
        requireNonNull(json, "json is null");
        if (json.length > MAX_MANIFEST_BYTES) {
            throw new BackupException("manifest.json is larger than " + MAX_MANIFEST_BYTES + " bytes");
        }
        String text;
        try {
            // Citadel writes the manifest in UTF-8; bytes in another encoding (which the JSON
            // parser would otherwise guess at, UTF-16 or UTF-32) are refused before parsing
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new BackupException("manifest.json is not UTF-8");
        }
        try (JsonParser p = JSON.createParser(text)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            String format = null;
            Integer formatVersion = null;
            String citadelVersion = null;
            Instant createdAt = null;
            Integer schemaVersion = null;
            String rootKeyProvider = null;
            List<Entry> files = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "format" -> format = text(p, value, field);
                    case "formatVersion" -> formatVersion = integer(p, value, field);
                    case "citadelVersion" -> citadelVersion = text(p, value, field);
                    case "createdAt" -> createdAt = instant(text(p, value, field));
                    case "schemaVersion" -> schemaVersion = integer(p, value, field);
                    case "rootKeyProvider" -> rootKeyProvider = text(p, value, field);
                    case "files" -> files = files(p, value);
                    default -> throw new BackupException("manifest.json has an unknown field " + printable(field));
                }
            }
            expect(p.currentToken(), JsonToken.END_OBJECT);
            if (p.nextToken() != null) {
                throw new BackupException("manifest.json holds more than one JSON object");
            }
            if (!FORMAT.equals(format)) {
                throw new BackupException("manifest.json is not a Citadel backup manifest (format is not " + FORMAT + ")");
            }
            if (formatVersion == null || citadelVersion == null || createdAt == null || schemaVersion == null || rootKeyProvider == null
                    || files == null) {
                throw new BackupException("manifest.json lacks a required field");
            }
            return new BackupManifest(formatVersion, citadelVersion, createdAt, schemaVersion, rootKeyProvider, files);
        } catch (JsonProcessingException e) {
            throw new BackupException("manifest.json is not well-formed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Entry> files(JsonParser p, JsonToken token) throws IOException {
        expect(token, JsonToken.START_ARRAY);
        List<Entry> out = new ArrayList<>();
        while (p.nextToken() == JsonToken.START_OBJECT) {
            if (out.size() >= MAX_FILES) {
                throw new BackupException("manifest.json lists more than " + MAX_FILES + " files");
            }
            String path = null;
            Long size = null;
            String sha256 = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "path" -> path = text(p, value, field);
                    case "size" -> {
                        if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT
                                && p.getNumberType() != JsonParser.NumberType.LONG) {
                            throw new BackupException("manifest.json: size must be a whole number");
                        }
                        size = p.getLongValue();
                    }
                    case "sha256" -> sha256 = text(p, value, field);
                    default -> throw new BackupException("manifest.json has an unknown file field " + printable(field));
                }
            }
            expect(p.currentToken(), JsonToken.END_OBJECT);
            if (path == null || size == null || sha256 == null) {
                throw new BackupException("manifest.json lists a file without its path, size or sha256");
            }
            out.add(new Entry(path, size, sha256));
        }
        expect(p.currentToken(), JsonToken.END_ARRAY);
        return out;
    }

    private static String text(JsonParser p, JsonToken token, String field) throws IOException {
        if (token != JsonToken.VALUE_STRING) {
            throw new BackupException("manifest.json: " + field + " must be a string");
        }
        return p.getText();
    }

    private static int integer(JsonParser p, JsonToken token, String field) throws IOException {
        if (token != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
            throw new BackupException("manifest.json: " + field + " must be a whole number");
        }
        return p.getIntValue();
    }

    private static Instant instant(String text) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new BackupException("manifest.json: createdAt is not an ISO-8601 instant");
        }
    }

    private static void expect(JsonToken actual, JsonToken expected) {
        if (actual != expected) {
            throw new BackupException("manifest.json is not a Citadel backup manifest (expected " + expected.asString() + ")");
        }
    }

    /** At most 80 printable ASCII characters of a value read from the manifest, for messages. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 80; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return "'" + b + (s.length() > 80 ? "…" : "") + "'";
    }

    // ---- the seal ----

    /** The contents of manifest.seal for these manifest.json bytes. */
    public static byte[] seal(byte[] manifestJson, SecretSealer rootKey) {
        SecretBytes digest = SecretBytes.copyOf(sha256(manifestJson));
        try {
            return rootKey.seal(digest, MANIFEST_CONTEXT);
        } finally {
            digest.destroy();
        }
    }

    /**
     * Checks that {@code seal} is the seal of these manifest.json bytes under {@code rootKey}:
     * the key is the one the backup was made with, and the manifest is as it was written.
     */
    public static void authenticate(byte[] manifestJson, byte[] seal, SecretSealer rootKey) {
        if (seal.length > MAX_SEAL_BYTES) {
            throw notOpened();
        }
        SecretBytes digest;
        try {
            digest = rootKey.unseal(seal, MANIFEST_CONTEXT);
        } catch (IllegalArgumentException e) {
            throw notOpened();
        }
        try {
            if (!MessageDigest.isEqual(digest.revealBytes(), sha256(manifestJson))) {
                throw new BackupException("manifest.json was changed after the backup was made: its seal does not match it");
            }
        } finally {
            digest.destroy();
        }
    }

    private static BackupException notOpened() {
        return new BackupException("the root key does not open this backup's manifest.seal: it is not the root key of the data directory "
                + "that was backed up, or manifest.seal was changed");
    }

    /** The sealed form of a secret file of the data directory at {@code path} (its path in the backup, ending in .sealed). */
    static byte[] sealFile(byte[] plaintext, String path, SecretSealer rootKey) {
        SecretBytes secret = SecretBytes.copyOf(plaintext);
        try {
            byte[] sealed = rootKey.seal(secret, FILE_CONTEXT + path);
            if (sealed.length > MAX_SEALED_BYTES) {
                throw new BackupException(path + " is too large to seal into a backup (" + plaintext.length + " bytes)");
            }
            return sealed;
        } finally {
            secret.destroy();
        }
    }

    /** The plaintext of a sealed file of the backup at {@code path}. */
    static SecretBytes unsealFile(byte[] sealed, String path, SecretSealer rootKey) {
        if (sealed.length > MAX_SEALED_BYTES) {
            throw new BackupException(path + " does not open under the root key");
        }
        try {
            return rootKey.unseal(sealed, FILE_CONTEXT + path);
        } catch (IllegalArgumentException e) {
            throw new BackupException(path + " does not open under the root key");
        }
    }

    static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
