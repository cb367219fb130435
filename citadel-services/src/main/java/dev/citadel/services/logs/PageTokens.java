package dev.citadel.services.logs;

import dev.citadel.core.AwsException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * The pagination tokens of the Logs subset: a cursor (a position, a timestamp and a name, as each
 * listing needs) bound to the request it continues. A token is {@code <prefix>} (GetLogEvents'
 * {@code f/} or {@code b/}; empty for nextToken) followed by the unpadded base64url of, big-endian:
 * <pre>
 *   version    1 byte  (1)
 *   position   8 bytes (≥ 0)
 *   timestamp  8 bytes
 *   length     2 bytes, at most 1024
 *   name       length bytes of UTF-8
 *   check      8 bytes: the first 8 bytes of SHA-256("citadel-logs-token/v1" 0 scope 0 prefix 0 the bytes above)
 * </pre>
 * The scope names the operation and its parameters (account, region, group, stream, filter…), so
 * a token continues only the listing it came from. Tokens are validated, not secret: a cursor
 * grants nothing (every request is authorized on its own resources), and an unkeyed check keeps
 * them valid across restarts and nodes. Anything else, of any length, is InvalidParameterException
 * "The specified nextToken is invalid.", decided before anything is allocated by its size.
 */
final class PageTokens {
    static final int MAX_TOKEN = 2048;
    private static final byte VERSION = 1;
    private static final int MAX_NAME = 1024;
    private static final int CHECK = 8;
    private static final byte[] DOMAIN = "citadel-logs-token/v1".getBytes(StandardCharsets.US_ASCII);

    /** Where a listing goes on. */
    record Cursor(long position, long timestamp, String name) {
        Cursor {
            if (position < 0) {
                throw new IllegalArgumentException("position must not be negative");
            }
            java.util.Objects.requireNonNull(name, "name is null");
        }
    }

    private PageTokens() {
    }

    static String encode(String scope, String prefix, Cursor c) {
        byte[] name = c.name().getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_NAME) {
            throw new IllegalArgumentException("cursor name too long");
        }
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 2 + name.length + CHECK);
        b.put(VERSION).putLong(c.position()).putLong(c.timestamp()).putShort((short) name.length).put(name);
        byte[] check = check(scope, prefix, b.array(), b.position());
        b.put(check, 0, CHECK);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** The cursor of a token made by {@link #encode} with the same scope and prefix. */
    static Cursor decode(String scope, String prefix, String token) {
        if (token.length() > MAX_TOKEN || !token.startsWith(prefix)) {
            throw invalid();
        }
        byte[] raw;
        try {
            String body = token.substring(prefix.length());
            raw = Base64.getUrlDecoder().decode(body);
            // Only the canonical spelling: unused trailing bits or padding would make one token many.
            if (!Base64.getUrlEncoder().withoutPadding().encodeToString(raw).equals(body)) {
                throw invalid();
            }
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        if (raw.length < 1 + 8 + 8 + 2 + CHECK || raw[0] != VERSION) {
            throw invalid();
        }
        ByteBuffer b = ByteBuffer.wrap(raw);
        try {
            b.get();
            long position = b.getLong();
            long timestamp = b.getLong();
            int length = Short.toUnsignedInt(b.getShort());
            if (length > MAX_NAME || b.remaining() != length + CHECK || position < 0) {
                throw invalid();
            }
            byte[] name = new byte[length];
            b.get(name);
            byte[] expected = Arrays.copyOf(check(scope, prefix, raw, raw.length - CHECK), CHECK);
            if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(raw, raw.length - CHECK, raw.length))) {
                throw invalid();
            }
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(name)).toString();
            return new Cursor(position, timestamp, text);
        } catch (BufferUnderflowException | CharacterCodingException e) {
            throw invalid();
        }
    }

    private static byte[] check(String scope, String prefix, byte[] body, int length) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(DOMAIN);
            d.update((byte) 0);
            d.update(scope.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(prefix.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            d.update(body, 0, length);
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static AwsException invalid() {
        return new AwsException(LogsService.INVALID, 400, "The specified nextToken is invalid.");
    }
}
