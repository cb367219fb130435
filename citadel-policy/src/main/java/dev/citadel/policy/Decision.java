package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/** The evaluator's answer and the statements that decided it (for the simulator and for denial messages). */
public record Decision(Outcome outcome, List<MatchedStatement> matched, String reason) {
    /** IAM's three results, as SimulatePrincipalPolicy names them. */
    public enum Outcome { ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY }

    /** A statement that applied: which policy (by its source name), which statement. */
    public record MatchedStatement(String source, Statement statement) {
    }

    public Decision {
        requireNonNull(outcome, "outcome is null");
        matched = List.copyOf(matched);
        requireNonNull(reason, "reason is null");
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOWED;
    }
}
