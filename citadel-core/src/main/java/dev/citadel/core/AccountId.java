package dev.citadel.core;

import java.security.SecureRandom;

/** An account: the tenant boundary, a 12-digit id as in AWS Organizations. */
public record AccountId(String value) {
    public AccountId {
        if (!isValid(value)) {
            throw new IllegalArgumentException("account id must be 12 digits");
        }
    }

    public static boolean isValid(String value) {
        if (value == null || value.length() != 12) {
            return false;
        }
        for (int i = 0; i < 12; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    public static AccountId random(SecureRandom random) {
        StringBuilder sb = new StringBuilder(12);
        sb.append((char) ('1' + random.nextInt(9)));
        for (int i = 1; i < 12; i++) {
            sb.append((char) ('0' + random.nextInt(10)));
        }
        return new AccountId(sb.toString());
    }

    @Override
    public String toString() {
        return value;
    }
}
