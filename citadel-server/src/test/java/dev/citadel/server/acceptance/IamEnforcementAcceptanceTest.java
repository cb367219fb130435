package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The IAM issue's acceptance with boto3 against a running server: policies, group denies,
 * boundaries, session policies, trust policies, MFA, member accounts with SCPs, aws:SourceIp and
 * principal tags, each refusal an AWS-shaped error naming principal, action and resource.
 */
class IamEnforcementAcceptanceTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void enforcementAsAwsDoesIt() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_iam_security.py");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        String account = out.path("policy_arn").asText().split(":")[4];
        String alice = "arn:aws:iam::" + account + ":user/alice";

        assertThat(out.path("new_user").asText()).isEqualTo("AccessDenied: User: " + alice + " is not authorized to perform: iam:ListUsers "
                + "on resource: arn:aws:iam::" + account + ":user/ because no identity-based policy allows the iam:ListUsers action");
        assertThat(out.path("after_attach").asText()).isEqualTo("ok");
        assertThat(out.path("group_deny").asText()).startsWith("AccessDenied: User: " + alice + " is not authorized to perform: iam:ListUsers")
                .contains("with an explicit deny in the inline policy deny of arn:aws:iam::" + account + ":group/no-listing");
        assertThat(out.path("group_deny_other_action").asText()).isEqualTo("ok");

        assertThat(out.path("policy_versions").toString()).isEqualTo("[\"v1\",\"v2\"]");
        assertThat(out.path("policy_default").asText()).isEqualTo("v2");
        assertThat(out.path("delete_default_version").asText()).startsWith("DeleteConflict");
        assertThat(out.path("get_user_before_boundary").asText()).isEqualTo("ok");
        assertThat(out.path("boundary_shown").asText()).isEqualTo(out.path("policy_arn").asText());
        assertThat(out.path("get_user_with_boundary").asText()).startsWith("AccessDenied").contains("permissions boundary");
        assertThat(out.path("list_roles_with_boundary").asText()).isEqualTo("ok");
        assertThat(out.path("delete_policy_in_use").asText()).startsWith("DeleteConflict");
        assertThat(out.path("get_user_boundary_removed").asText()).isEqualTo("ok");

        assertThat(out.path("assume_without_permission").asText()).startsWith("AccessDenied: User: " + alice
                + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + account + ":role/reader");
        assertThat(out.path("assume_trust_not_naming_caller").asText()).startsWith("AccessDenied").contains("someone-else");
        assertThat(out.path("assume_wrong_external_id").asText()).startsWith("AccessDenied");
        assertThat(out.path("assume_too_long").asText()).startsWith("ValidationError").contains("MaxSessionDuration");
        assertThat(out.path("assumed_arn").asText()).isEqualTo("arn:aws:sts::" + account + ":assumed-role/reader/full");
        assertThat(out.path("role_identity").asText()).isEqualTo("arn:aws:sts::" + account + ":assumed-role/reader/full");
        assertThat(out.path("role_reads_policies").asText()).isEqualTo("ok");
        assertThat(out.path("role_cannot_write").asText()).startsWith("AccessDenied: User: arn:aws:sts::" + account
                + ":assumed-role/reader/full is not authorized to perform: iam:CreateUser");
        assertThat(out.path("role_tag_as_principal_tag").asText()).isEqualTo("ok");
        assertThat(out.path("session_tag_overrides_role_tag").asText()).startsWith("AccessDenied").contains("explicit deny");
        assertThat(out.path("packed_too_large").asText()).startsWith("PackedPolicyTooLarge");
        assertThat(out.path("session_policy_allows").asText()).isEqualTo("ok");
        assertThat(out.path("session_policy_narrows").asText()).startsWith("AccessDenied").contains("session policy");
        assertThat(out.path("forged_token").asText()).startsWith("InvalidClientTokenId");
        assertThat(out.path("token_of_other_key").asText()).startsWith("InvalidClientTokenId");

        assertThat(out.path("qr_png").asBoolean()).isTrue();
        assertThat(out.path("enable_wrong_codes").asText()).startsWith("InvalidAuthenticationCode");
        assertThat(out.path("mfa_devices").toString()).contains(":mfa/alice-phone");
        assertThat(out.path("mfa_long_term_key").asText()).startsWith("AccessDenied").contains("explicit deny");
        assertThat(out.path("session_without_mfa_iam").asText()).startsWith("AccessDenied");
        assertThat(out.path("session_without_mfa_identity").asText()).isEqualTo(alice);
        assertThat(out.path("mfa_session").asText()).isEqualTo("ok");
        assertThat(out.path("mfa_code_reused").asText()).startsWith("AccessDenied: MultiFactorAuthentication failed");
        assertThat(out.path("mfa_code_wrong").asText()).startsWith("AccessDenied: MultiFactorAuthentication failed");
        assertThat(out.path("mfa_session_cannot_get_session_token").asText()).startsWith("AccessDenied");

        assertThat(out.path("alice_into_member").asText()).startsWith("AccessDenied");
        assertThat(out.path("member_identity").path("Arn").asText()).endsWith(":assumed-role/OrganizationAccountAccessRole/ops");
        assertThat(out.path("member_identity").path("Account").asText()).isNotEqualTo(account);
        assertThat(out.path("member_admin_before_scp").asText()).isEqualTo("ok");
        assertThat(out.path("attach_before_enable").asText()).startsWith("PolicyNotFoundException");
        assertThat(out.path("bad_scp").asText()).startsWith("MalformedPolicyDocumentException");
        assertThat(out.path("member_admin_after_scp").asText()).startsWith("AccessDenied").contains("service control polic");
        assertThat(out.path("member_admin_other_action").asText()).isEqualTo("ok");
        assertThat(out.path("management_not_bound_by_scp").asText()).isEqualTo("ok");
        assertThat(out.path("ou_duplicate").asText()).startsWith("DuplicateOrganizationalUnitException");
        assertThat(out.path("move_wrong_source").asText()).startsWith("AccountNotFoundException");
        assertThat(out.path("member_parent_is_ou").asBoolean()).isTrue();
        assertThat(out.path("ou_children").asBoolean()).isTrue();
        assertThat(out.path("ou_policies").toString()).isEqualTo("[\"FullAWSAccess\",\"deny-get-user\"]");
        assertThat(out.path("member_denied_by_ou_scp").asText()).startsWith("AccessDenied").contains("explicit deny")
                .contains("organizational unit");
        assertThat(out.path("delete_nonempty_ou").asText()).startsWith("OrganizationalUnitNotEmptyException");
        assertThat(out.path("policies_for_member").toString()).isEqualTo("[\"FullAWSAccess\",\"deny-list-users\"]");
        assertThat(out.path("detach_last").asText()).startsWith("ConstraintViolationException");
        // With FullAWSAccess detached, the account's only SCP is a Deny: nothing is allowed there.
        assertThat(out.path("member_without_full_access").asText()).startsWith("AccessDenied")
                .endsWith("because no service control policy allows the iam:ListRoles action");

        assertThat(out.path("source_ip_matches").asText()).isEqualTo("ok");
        assertThat(out.path("source_ip_other_network").asText()).startsWith("AccessDenied");
        assertThat(out.path("principal_tag_matches").asText()).isEqualTo("ok");
        assertThat(out.path("principal_tag_differs").asText()).startsWith("AccessDenied");
        assertThat(out.path("resource_tag_matches").asText()).isEqualTo("ok");
        assertThat(out.path("resource_tag_absent").asText()).startsWith("AccessDenied");
        assertThat(out.path("bad_tag").asText()).startsWith("InvalidInput");
        assertThat(out.path("simulate_role").toString()).isEqualTo("[\"allowed\",\"implicitDeny\"]");
        assertThat(out.path("details_users").toString()).contains("\"alice\"", "\"carol\"");
        assertThat(out.path("details_local_policies").toString()).isEqualTo("[\"roles-only\"]");
    }
}
