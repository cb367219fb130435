package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who made an authenticated request, as CloudTrail's {@code userIdentity} and STS's
 * {@code GetCallerIdentity} describe it.
 *
 * @param type         {@code IAMUser} or {@code AssumedRole}
 * @param principalId  the unique id ({@code AIDA…}, or {@code AROA…:session} for a role session)
 * @param arn          the caller's ARN ({@code …:user/path/name} or {@code arn:aws:sts::A:assumed-role/R/S})
 * @param name         the user name, or for a role session the role's name (whose policies apply)
 * @param tags         the principal's tags ({@code aws:PrincipalTag/*}): the user's, or for a session
 *                     the role's overlaid with the session tags
 * @param session      present when the request was signed with temporary credentials
 */
public record Principal(String type, AccountId account, String principalId, String arn, String name, String accessKeyId,
        Map<String, String> tags, Optional<Session> session) {
    public Principal {
        requireNonNull(type, "type is null");
        requireNonNull(account, "account is null");
        requireNonNull(principalId, "principalId is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(name, "name is null");
        requireNonNull(accessKeyId, "accessKeyId is null");
        tags = Map.copyOf(tags);
        requireNonNull(session, "session is null");
    }

    /** A principal signing with long-term credentials and no tags. */
    public Principal(String type, AccountId account, String principalId, String arn, String name, String accessKeyId) {
        this(type, account, principalId, arn, name, accessKeyId, Map.of(), Optional.empty());
    }

    /**
     * What temporary credentials carry (sealed inside their session token): when and for how long
     * they were issued, whether with MFA, and the session policies and tags that narrow and label
     * them.
     *
     * @param issuer          the ARN of the role assumed, or of the user who called GetSessionToken
     * @param sessionName     the role session name (empty for GetSessionToken)
     * @param mfaAt           when the MFA code that came with the request for these credentials was checked
     * @param policies        inline session policy documents
     * @param policyArns      managed session policy ARNs
     * @param sourceIdentity  the SourceIdentity set when the role was assumed, if any
     * @param chained         whether these credentials came from assuming a role with role credentials
     */
    public record Session(String issuer, String sessionName, Instant issuedAt, Instant expiresAt, Optional<Instant> mfaAt,
            List<String> policies, List<String> policyArns, Optional<String> sourceIdentity, boolean chained) {
        public Session {
            requireNonNull(issuer, "issuer is null");
            requireNonNull(sessionName, "sessionName is null");
            requireNonNull(issuedAt, "issuedAt is null");
            requireNonNull(expiresAt, "expiresAt is null");
            requireNonNull(mfaAt, "mfaAt is null");
            policies = List.copyOf(policies);
            policyArns = List.copyOf(policyArns);
            requireNonNull(sourceIdentity, "sourceIdentity is null");
        }
    }

    public boolean isRoleSession() {
        return type.equals("AssumedRole");
    }

    /** The type of a service principal acting on its own behalf; no credential a client holds authenticates as one. */
    public static final String SERVICE = "AWSService";

    /**
     * A service principal of Citadel's own ({@code citadel-marketplace.amazonaws.com}) acting on its
     * own behalf on a resource of {@code resourceAccount}, as AWS services act on the resources of the
     * account that granted them: only resource-based policies and grants can allow it (never the
     * account's IAM policies), and its calls are audited in that account's trail. Only Citadel's code
     * makes one (for {@code RequestPipeline.invokeAs}).
     */
    public static Principal service(String servicePrincipal, AccountId resourceAccount) {
        if (!servicePrincipal.matches("[a-z0-9-]+\\.amazonaws\\.com")) {
            throw new IllegalArgumentException("not a service principal: " + servicePrincipal);
        }
        return new Principal(SERVICE, resourceAccount, servicePrincipal, servicePrincipal, servicePrincipal, "");
    }

    public boolean isService() {
        return type.equals(SERVICE);
    }
}
