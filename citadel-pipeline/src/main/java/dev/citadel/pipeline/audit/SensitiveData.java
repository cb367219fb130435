package dev.citadel.pipeline.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds sensitive data in the free-form fields of a request (names, tags, descriptions,
 * environment values, hyperparameters, S3 user metadata) before it spreads into metadata, logs
 * and audit records: Luhn-valid card numbers, IBANs (mod 97), AWS access key ids and secret
 * keys, PEM private keys, e-mail addresses and US social security numbers. A finding names the
 * field and the kind of data, never the value.
 */
public final class SensitiveData {
    /** What the operator wants done with a finding. */
    public enum Mode {
        /** Not scanned. */
        OFF,
        /** The request goes ahead; its audit event names the findings. */
        WARN,
        /** The request is refused with a ValidationException naming the field. */
        REFUSE
    }

    /** The kinds of data detected. */
    public enum Kind {
        CARD_NUMBER("a payment card number"),
        IBAN("an IBAN"),
        AWS_ACCESS_KEY_ID("an AWS access key id"),
        AWS_SECRET_ACCESS_KEY("an AWS secret access key"),
        PRIVATE_KEY("a private key"),
        EMAIL_ADDRESS("an e-mail address"),
        NATIONAL_ID("a national identification number");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** A finding: the field (a path into the request, such as {@code Tags[0].Value}) and the kind. */
    public record Finding(String field, Kind kind) {
    }

    /** Input members whose values are free-form text people write (matched by name, case-insensitively). */
    private static final Set<String> FREE_FORM = Set.of("description", "tags", "tag", "tagging", "value", "key", "environment",
            "hyperparameters", "username", "rolename", "groupname", "policyname", "aliasname", "name", "accountname", "path",
            "customattributes", "sourceidentity", "rolesessionname", "jobname", "trainingjobname", "modelname", "endpointname");
    /** S3 headers whose values are free-form. */
    private static final String META = "x-amz-meta-";

    private static final Pattern CARD = Pattern.compile("(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])");
    private static final Pattern IBAN_PATTERN = Pattern.compile("(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])");
    private static final Pattern ACCESS_KEY = Pattern.compile("(?<![A-Z0-9])(?:AKIA|ASIA|AROA|AIDA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Z0-9])");
    private static final Pattern SECRET_KEY = Pattern.compile("(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])");
    private static final Pattern PEM = Pattern.compile("-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----");
    private static final Pattern EMAIL = Pattern.compile("(?<![\\w.+-])[\\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63})*\\.[A-Za-z]{2,24}");
    private static final Pattern SSN = Pattern.compile("(?<![0-9-])([0-9]{3})-([0-9]{2})-([0-9]{4})(?![0-9-])");

    private SensitiveData() {
    }

    /** The findings in one value. */
    public static List<Kind> scan(String value) {
        List<Kind> kinds = new ArrayList<>();
        if (value == null || value.length() < 5) {
            return kinds;
        }
        // What each detector needs at the least, counted in one pass: most names and tags have
        // none of it, and this pass costs far less than the regular expressions it spares.
        int digits = 0;
        boolean at = false;
        boolean dash = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c >= '0' && c <= '9') {
                digits++;
            } else if (c == '@') {
                at = true;
            } else if (c == '-') {
                dash = true;
            }
        }
        if (dash && PEM.matcher(value).find()) {
            kinds.add(Kind.PRIVATE_KEY);
        }
        if (value.length() >= 20 && ACCESS_KEY.matcher(value).find()) {
            kinds.add(Kind.AWS_ACCESS_KEY_ID);
        }
        if (value.length() >= 40) {
            Matcher secret = SECRET_KEY.matcher(value);
            while (secret.find()) {
                if (looksRandom(secret.group())) {
                    kinds.add(Kind.AWS_SECRET_ACCESS_KEY);
                    break;
                }
            }
        }
        if (digits >= 13) {
            Matcher card = CARD.matcher(value);
            while (card.find()) {
                String number = card.group().replaceAll("[ -]", "");
                if (number.length() >= 13 && number.length() <= 19 && luhn(number)) {
                    kinds.add(Kind.CARD_NUMBER);
                    break;
                }
            }
        }
        if (digits >= 2 && value.length() >= 15) {
            Matcher iban = IBAN_PATTERN.matcher(value);
            while (iban.find()) {
                if (ibanValid(iban.group().replace(" ", ""))) {
                    kinds.add(Kind.IBAN);
                    break;
                }
            }
        }
        if (at && EMAIL.matcher(value).find()) {
            kinds.add(Kind.EMAIL_ADDRESS);
        }
        if (digits >= 9 && dash) {
            Matcher ssn = SSN.matcher(value);
            while (ssn.find()) {
                int area = Integer.parseInt(ssn.group(1));
                if (area != 0 && area != 666 && area < 900 && !ssn.group(2).equals("00") && !ssn.group(3).equals("0000")) {
                    kinds.add(Kind.NATIONAL_ID);
                    break;
                }
            }
        }
        return kinds;
    }

    /**
     * The findings in the free-form fields of an operation's input: members named like names,
     * tags, descriptions, environment and hyperparameters (every string below them), and S3 user
     * metadata and tagging headers.
     */
    public static List<Finding> scanInput(JsonNode input) {
        List<Finding> out = new ArrayList<>();
        if (input == null || !input.isObject()) {
            return out;
        }
        for (Map.Entry<String, JsonNode> e : input.properties()) {
            if (e.getKey().equals("__body")) {
                scanTaggingBody(e.getValue(), out);
                continue;
            }
            if (e.getKey().startsWith("__")) {
                continue;
            }
            if (e.getKey().equals("headers") && e.getValue().isObject()) {
                for (Map.Entry<String, JsonNode> h : e.getValue().properties()) {
                    String path = "headers." + h.getKey();
                    if (h.getKey().startsWith(META)) {
                        walk(h.getValue(), path, true, out);
                    } else if (h.getKey().equals("x-amz-tagging") && h.getValue().isTextual()) {
                        String decoded;
                        try {
                            decoded = java.net.URLDecoder.decode(h.getValue().asText(), java.nio.charset.StandardCharsets.UTF_8);
                        } catch (IllegalArgumentException malformed) {
                            decoded = h.getValue().asText();
                        }
                        scan(decoded).forEach(k -> out.add(new Finding(path, k)));
                    }
                }
                continue;
            }
            walk(e.getValue(), e.getKey(), FREE_FORM.contains(e.getKey().toLowerCase(Locale.ROOT)), out);
        }
        return out;
    }

    /**
     * S3's tagging bodies (PutObjectTagging, PutBucketTagging) carry tags as XML in the body; their
     * keys and values are free-form. Other bodies, and bodies that do not parse, are left to their
     * operation (which refuses malformed XML itself).
     */
    private static void scanTaggingBody(JsonNode body, List<Finding> out) {
        if (!(body instanceof com.fasterxml.jackson.databind.node.POJONode pojo) || !(pojo.getPojo() instanceof byte[] bytes)
                || bytes.length == 0 || bytes.length > 256 * 1024) {
            return;
        }
        String head = new String(bytes, 0, Math.min(bytes.length, 256), java.nio.charset.StandardCharsets.UTF_8);
        if (!head.contains("<Tagging")) {
            return;
        }
        JsonNode tagging;
        try {
            tagging = dev.citadel.wire.RestXml.read(bytes).path("Tagging");
        } catch (RuntimeException malformed) {
            return;
        }
        walk(tagging.path("TagSet"), "Tagging.TagSet", true, out);
    }

    private static void walk(JsonNode node, String path, boolean freeForm, List<Finding> out) {
        if (node.isTextual()) {
            if (freeForm) {
                scan(node.asText()).forEach(k -> out.add(new Finding(path, k)));
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                walk(node.get(i), path + "[" + i + "]", freeForm, out);
            }
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                // Below a free-form member everything is free-form (a map's keys are named by the user, so they are scanned too).
                if (freeForm) {
                    scan(e.getKey()).forEach(k -> out.add(new Finding(path + "." + e.getKey(), k)));
                }
                walk(e.getValue(), path + "." + e.getKey(), freeForm || FREE_FORM.contains(e.getKey().toLowerCase(Locale.ROOT)), out);
            }
        }
    }

    /** CloudTrail's own stand-in for a value it will not show. */
    public static final String HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";

    /**
     * Replaces, in a copy of the input made for the audit record, every value (or map key) a
     * finding names with {@value #HIDDEN}, so that the record does not spread what was found.
     */
    public static JsonNode mask(JsonNode copy, List<Finding> findings) {
        if (findings.isEmpty() || copy == null || !copy.isObject()) {
            return copy;
        }
        Set<String> paths = new java.util.HashSet<>();
        findings.forEach(f -> paths.add(f.field()));
        for (Map.Entry<String, JsonNode> e : copy.properties()) {
            if (e.getKey().equals("headers") && e.getValue().isObject()) {
                com.fasterxml.jackson.databind.node.ObjectNode headers = (com.fasterxml.jackson.databind.node.ObjectNode) e.getValue();
                List<String> names = new ArrayList<>();
                headers.fieldNames().forEachRemaining(names::add);
                for (String name : names) {
                    if (paths.contains("headers." + name)) {
                        headers.put(name, HIDDEN);
                    }
                }
            } else {
                e.setValue(masked(e.getValue(), e.getKey(), paths));
            }
        }
        return copy;
    }

    private static JsonNode masked(JsonNode node, String path, Set<String> paths) {
        if (node.isTextual()) {
            return paths.contains(path) ? com.fasterxml.jackson.databind.node.TextNode.valueOf(HIDDEN) : node;
        }
        if (node.isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode a = (com.fasterxml.jackson.databind.node.ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                a.set(i, masked(a.get(i), path + "[" + i + "]", paths));
            }
            return a;
        }
        if (node.isObject()) {
            com.fasterxml.jackson.databind.node.ObjectNode o = (com.fasterxml.jackson.databind.node.ObjectNode) node;
            com.fasterxml.jackson.databind.node.ObjectNode out = o.objectNode();
            int hidden = 0;
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                String child = path + "." + e.getKey();
                String name = paths.contains(child) && !e.getValue().isTextual() || paths.contains(child) && scan(e.getKey()).size() > 0
                        ? HIDDEN + "#" + (++hidden) : e.getKey();
                out.set(name, masked(e.getValue(), child, paths));
            }
            return out;
        }
        return node;
    }

    static boolean luhn(String digits) {
        int sum = 0;
        boolean twice = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (twice) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            twice = !twice;
        }
        return sum % 10 == 0 && !digits.chars().allMatch(c -> c == digits.charAt(0));
    }

    static boolean ibanValid(String iban) {
        if (iban.length() < 15 || iban.length() > 34) {
            return false;
        }
        String rearranged = iban.substring(4) + iban.substring(0, 4);
        StringBuilder numeric = new StringBuilder();
        for (char c : rearranged.toCharArray()) {
            if (Character.isDigit(c)) {
                numeric.append(c);
            } else if (c >= 'A' && c <= 'Z') {
                numeric.append(c - 'A' + 10);
            } else {
                return false;
            }
        }
        return new BigInteger(numeric.toString()).mod(BigInteger.valueOf(97)).intValue() == 1;
    }

    /** A 40-character secret key has upper case, lower case and digits; words and paths do not look like that. */
    private static boolean looksRandom(String s) {
        boolean upper = false;
        boolean lower = false;
        boolean digit = false;
        for (char c : s.toCharArray()) {
            upper |= Character.isUpperCase(c);
            lower |= Character.isLowerCase(c);
            digit |= Character.isDigit(c);
        }
        return upper && lower && digit;
    }
}
