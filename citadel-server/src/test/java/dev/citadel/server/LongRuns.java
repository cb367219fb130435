package dev.citadel.server;

/**
 * The one switch between the short forms of the crash harness and the soak (run by every
 * {@code mvn verify}) and their long forms: {@code -Dcitadel.long=true}, which
 * {@code ./citadel test --long} passes. A property of the test's own name overrides either form.
 */
final class LongRuns {
    static final String FLAG = "citadel.long";

    private LongRuns() {
    }

    static boolean enabled() {
        return Boolean.getBoolean(FLAG);
    }

    /** {@code property}'s value if set, else {@code longForm} with the flag on, else {@code shortForm}. */
    static int pick(String property, int shortForm, int longForm) {
        return Integer.getInteger(property, enabled() ? longForm : shortForm);
    }
}
