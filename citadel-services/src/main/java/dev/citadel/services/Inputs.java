package dev.citadel.services;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads members of an operation's input and validates them the way AWS does, with AWS's message
 * shape: {@code 1 validation error detected: Value 'x' at 'email' failed to satisfy constraint:
 * Member must …}. Every check runs before a handler writes anything.
 */
public final class Inputs {
    private final ObjectNode input;
    private final String errorCode;

    /** @param errorCode the service's validation error code ({@code ValidationError}, {@code InvalidInputException}, …) */
    public Inputs(ObjectNode input, String errorCode) {
        this.input = input;
        this.errorCode = errorCode;
    }

    public Optional<String> optionalString(String member, int minLength, int maxLength, Pattern pattern) {
        JsonNode node = input.get(member);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw invalid(member, node.toString(), "Member must be a string");
        }
        String value = node.textValue();
        if (value.length() < minLength) {
            throw invalid(member, value, "Member must have length greater than or equal to " + minLength);
        }
        if (value.length() > maxLength) {
            throw invalid(member, value, "Member must have length less than or equal to " + maxLength);
        }
        if (pattern != null && !pattern.matcher(value).matches()) {
            throw invalid(member, value, "Member must satisfy regular expression pattern: " + pattern.pattern());
        }
        return Optional.of(value);
    }

    public String requiredString(String member, int minLength, int maxLength, Pattern pattern) {
        return optionalString(member, minLength, maxLength, pattern)
                .orElseThrow(() -> new AwsException(errorCode, 400,
                        "1 validation error detected: Value null at '" + lowerFirst(member) + "' failed to satisfy constraint: Member must not be null"));
    }

    public Optional<Integer> optionalInt(String member, int min, int max) {
        JsonNode node = input.get(member);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        int value;
        if (node.isIntegralNumber() && node.canConvertToInt()) {
            value = node.intValue();
        } else if (node.isTextual() && node.textValue().matches("-?\\d{1,10}")) {
            try {
                value = Integer.parseInt(node.textValue());
            } catch (NumberFormatException e) {
                throw invalid(member, node.asText(), "Member must be a number");
            }
        } else {
            throw invalid(member, node.asText(), "Member must be a number");
        }
        if (value < min) {
            throw invalid(member, Integer.toString(value), "Member must have value greater than or equal to " + min);
        }
        if (value > max) {
            throw invalid(member, Integer.toString(value), "Member must have value less than or equal to " + max);
        }
        return Optional.of(value);
    }

    private AwsException invalid(String member, String value, String constraint) {
        String shown = value.length() > 64 ? value.substring(0, 64) + "…" : value;
        return new AwsException(errorCode, 400, "1 validation error detected: Value '" + shown + "' at '" + lowerFirst(member)
                + "' failed to satisfy constraint: " + constraint);
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
