"""IAM enforcement end to end with boto3: new users denied, policies, group denies, permissions
boundaries, session policies, trust policies, MFA with TOTP, member accounts and SCPs, aws:SourceIp."""
import base64
import hashlib
import hmac
import json
import struct
import time

import boto3
import botocore.exceptions

admin = boto3.session.Session()
iam = admin.client("iam")
sts = admin.client("sts")
org = admin.client("organizations")
account = sts.get_caller_identity()["Account"]
R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]


def session(c):
    return boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                 aws_session_token=c.get("SessionToken"))


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return dict({"Effect": "Allow", "Action": action, "Resource": resource}, **extra)


def deny(action, resource="*", **extra):
    return dict({"Effect": "Deny", "Action": action, "Resource": resource}, **extra)


def totp(seed, step):
    h = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


# --- a new user is denied everything, then allowed by a policy, denied again by a group Deny ---
iam.create_user(UserName="alice")
alice = session(iam.create_access_key(UserName="alice")["AccessKey"])
a_iam = alice.client("iam")
R["new_user"] = code(a_iam.list_users)
iam.attach_user_policy(UserName="alice", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
R["after_attach"] = code(a_iam.list_users)
iam.create_group(GroupName="no-listing")
iam.add_user_to_group(GroupName="no-listing", UserName="alice")
iam.put_group_policy(GroupName="no-listing", PolicyName="deny", PolicyDocument=doc(deny("iam:ListUsers")))
R["group_deny"] = code(a_iam.list_users)
R["group_deny_other_action"] = code(a_iam.list_roles)

# --- customer managed policies with versions; a permissions boundary narrows ---
bound = iam.create_policy(PolicyName="roles-only", PolicyDocument=doc(allow("iam:ListRoles")), Description="boundary")["Policy"]
R["policy_arn"] = bound["Arn"]
v2 = iam.create_policy_version(PolicyArn=bound["Arn"], PolicyDocument=doc(allow(["iam:ListRoles", "sts:AssumeRole"])),
                               SetAsDefault=True)["PolicyVersion"]
R["policy_versions"] = sorted(v["VersionId"] for v in iam.list_policy_versions(PolicyArn=bound["Arn"])["Versions"])
R["policy_default"] = iam.get_policy(PolicyArn=bound["Arn"])["Policy"]["DefaultVersionId"]
R["delete_default_version"] = code(lambda: iam.delete_policy_version(PolicyArn=bound["Arn"], VersionId=v2["VersionId"]))
R["get_user_before_boundary"] = code(lambda: a_iam.get_user(UserName="alice"))
iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=bound["Arn"])
R["boundary_shown"] = iam.get_user(UserName="alice")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
R["get_user_with_boundary"] = code(lambda: a_iam.get_user(UserName="alice"))
R["list_roles_with_boundary"] = code(a_iam.list_roles)
R["delete_policy_in_use"] = code(lambda: iam.delete_policy(PolicyArn=bound["Arn"]))
iam.delete_user_permissions_boundary(UserName="alice")
R["get_user_boundary_removed"] = code(lambda: a_iam.get_user(UserName="alice"))

# --- AssumeRole: trust and the caller's own permission; a session policy narrows ---
reader = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=doc(
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + account + ":user/alice"}, "Action": ["sts:AssumeRole", "sts:TagSession"],
     "Condition": {"StringEquals": {"sts:ExternalId": "shared-secret-id"}}}),
    Tags=[{"Key": "team", "Value": "vision"}])["Role"]
iam.put_role_policy(RoleName="reader", PolicyName="team-only", PolicyDocument=doc(
    deny("iam:ListGroups", Condition={"StringNotEquals": {"aws:PrincipalTag/team": "vision"}})))
iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
other = iam.create_role(RoleName="someone-else", AssumeRolePolicyDocument=doc(
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + account + ":user/nobody"}, "Action": "sts:AssumeRole"}))["Role"]
a_sts = alice.client("sts")
R["assume_without_permission"] = code(lambda: a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="s1",
                                                                 ExternalId="shared-secret-id"))
iam.put_user_policy(UserName="alice", PolicyName="assume", PolicyDocument=doc(
    allow(["sts:AssumeRole", "sts:TagSession"], "arn:aws:iam::" + account + ":role/*")))
R["assume_trust_not_naming_caller"] = code(lambda: a_sts.assume_role(RoleArn=other["Arn"], RoleSessionName="s1"))
R["assume_wrong_external_id"] = code(lambda: a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="s1", ExternalId="guess"))
R["assume_too_long"] = code(lambda: a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="s1", ExternalId="shared-secret-id",
                                                       DurationSeconds=7200))
full = a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="full", ExternalId="shared-secret-id")
R["assumed_arn"] = full["AssumedRoleUser"]["Arn"]
role_session = session(full["Credentials"])
R["role_identity"] = role_session.client("sts").get_caller_identity()["Arn"]
R["role_reads_policies"] = code(role_session.client("iam").list_policies)
R["role_cannot_write"] = code(lambda: role_session.client("iam").create_user(UserName="mallory"))
R["role_tag_as_principal_tag"] = code(role_session.client("iam").list_groups)
speech = a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="speech", ExternalId="shared-secret-id",
                           Tags=[{"Key": "Team", "Value": "speech"}])
R["session_tag_overrides_role_tag"] = code(session(speech["Credentials"]).client("iam").list_groups)
R["packed_too_large"] = code(lambda: a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="big", ExternalId="shared-secret-id",
                                                        Tags=[{"Key": "k%d" % i, "Value": "v" * 250} for i in range(20)]))
narrow = a_sts.assume_role(RoleArn=reader["Arn"], RoleSessionName="narrow", ExternalId="shared-secret-id",
                           Policy=doc(allow("iam:ListRoles")))
narrow_iam = session(narrow["Credentials"]).client("iam")
R["session_policy_allows"] = code(narrow_iam.list_roles)
R["session_policy_narrows"] = code(narrow_iam.list_policies)
forged = dict(full["Credentials"], SessionToken=full["Credentials"]["SessionToken"][:-8] + "AAAAAAA=")
R["forged_token"] = code(session(forged).client("sts").get_caller_identity)
swapped = dict(narrow["Credentials"], SessionToken=full["Credentials"]["SessionToken"])
R["token_of_other_key"] = code(session(swapped).client("sts").get_caller_identity)

# --- MFA: a policy demanding MFA refuses long-term keys, accepts a session made with a valid code ---
device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
seed_b32 = device["Base32StringSeed"].decode("ascii")
seed = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
R["qr_png"] = device["QRCodePNG"][:8] == b"\x89PNG\r\n\x1a\n"
serial = device["SerialNumber"]
now = int(time.time()) // 30
R["enable_wrong_codes"] = code(lambda: iam.enable_mfa_device(UserName="alice", SerialNumber=serial,
                                                             AuthenticationCode1=totp(seed, now - 9), AuthenticationCode2=totp(seed, now - 8)))
iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1=totp(seed, now - 1), AuthenticationCode2=totp(seed, now))
R["mfa_devices"] = [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="alice")["MFADevices"]]
iam.put_user_policy(UserName="alice", PolicyName="require-mfa", PolicyDocument=doc(
    deny("iam:ListRoles", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})))
R["mfa_long_term_key"] = code(a_iam.list_roles)
plain = session(a_sts.get_session_token()["Credentials"])
R["session_without_mfa_iam"] = code(plain.client("iam").list_roles)
R["session_without_mfa_identity"] = plain.client("sts").get_caller_identity()["Arn"]
good = totp(seed, now + 1)
with_mfa = session(a_sts.get_session_token(SerialNumber=serial, TokenCode=good, DurationSeconds=900)["Credentials"])
R["mfa_session"] = code(with_mfa.client("iam").list_roles)
R["mfa_code_reused"] = code(lambda: a_sts.get_session_token(SerialNumber=serial, TokenCode=good))
R["mfa_code_wrong"] = code(lambda: a_sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed, now - 20)))
R["mfa_session_cannot_get_session_token"] = code(with_mfa.client("sts").get_session_token)

# --- member accounts: the management account assumes OrganizationAccountAccessRole; an SCP wins ---
status = org.create_account(AccountName="research", Email="research@example.com")["CreateAccountStatus"]
member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
access_role = "arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"
R["alice_into_member"] = code(lambda: a_sts.assume_role(RoleArn=access_role, RoleSessionName="alice"))
ops = session(sts.assume_role(RoleArn=access_role, RoleSessionName="ops")["Credentials"])
R["member_identity"] = ops.client("sts").get_caller_identity()
m_iam = ops.client("iam")
m_iam.create_user(UserName="member-user")
R["member_admin_before_scp"] = code(m_iam.list_users)
root = org.list_roots()["Roots"][0]["Id"]
R["attach_before_enable"] = code(lambda: org.attach_policy(PolicyId="p-FullAWSAccess", TargetId=member))
org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
scp = org.create_policy(Content=doc(deny("iam:ListUsers")), Description="no user listing", Name="deny-list-users",
                        Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
R["bad_scp"] = code(lambda: org.create_policy(Content='{"Version":"2012-10-17"}', Description="", Name="bad",
                                              Type="SERVICE_CONTROL_POLICY"))
org.attach_policy(PolicyId=scp, TargetId=member)
R["member_admin_after_scp"] = code(m_iam.list_users)
R["member_admin_other_action"] = code(m_iam.list_roles)
org.attach_policy(PolicyId=scp, TargetId=root)
R["management_not_bound_by_scp"] = code(iam.list_users)
ou = org.create_organizational_unit(ParentId=root, Name="research")["OrganizationalUnit"]["Id"]
R["ou_duplicate"] = code(lambda: org.create_organizational_unit(ParentId=root, Name="research"))
R["move_wrong_source"] = code(lambda: org.move_account(AccountId=member, SourceParentId=ou, DestinationParentId=root))
org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
R["member_parent_is_ou"] = [p["Id"] for p in org.list_parents(ChildId=member)["Parents"]] == [ou]
R["ou_children"] = [c["Id"] for c in org.list_children(ParentId=ou, ChildType="ACCOUNT")["Children"]] == [member]
ou_scp = org.create_policy(Content=doc(deny("iam:GetUser")), Description="", Name="deny-get-user",
                           Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
org.attach_policy(PolicyId=ou_scp, TargetId=ou)
R["ou_policies"] = sorted(p["Name"] for p in org.list_policies_for_target(TargetId=ou, Filter="SERVICE_CONTROL_POLICY")["Policies"])
R["member_denied_by_ou_scp"] = code(lambda: m_iam.get_user(UserName="member-user"))
R["delete_nonempty_ou"] = code(lambda: org.delete_organizational_unit(OrganizationalUnitId=ou))
R["policies_for_member"] = sorted(p["Name"] for p in org.list_policies_for_target(TargetId=member, Filter="SERVICE_CONTROL_POLICY")["Policies"])
R["detach_last"] = code(lambda: (org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member),
                                 org.detach_policy(PolicyId=scp, TargetId=member)))
R["member_without_full_access"] = code(m_iam.list_roles)

# --- aws:SourceIp: the client is on loopback ---
iam.create_user(UserName="carol")
carol = session(iam.create_access_key(UserName="carol")["AccessKey"]).client("iam")
iam.put_user_policy(UserName="carol", PolicyName="ip", PolicyDocument=doc(
    allow("iam:GetUser", Condition={"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
    allow("iam:ListGroups", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
R["source_ip_matches"] = code(lambda: carol.get_user(UserName="carol"))
R["source_ip_other_network"] = code(carol.list_groups)

# --- tags as principal tags ---
iam.tag_user(UserName="carol", Tags=[{"Key": "team", "Value": "vision"}])
iam.put_user_policy(UserName="carol", PolicyName="tags", PolicyDocument=doc(
    allow("iam:ListRoles", Condition={"StringEquals": {"aws:PrincipalTag/team": "vision"}}),
    allow("iam:ListPolicies", Condition={"StringEquals": {"aws:PrincipalTag/team": "speech"}})))
R["user_tags"] = iam.list_user_tags(UserName="carol")["Tags"]
R["principal_tag_matches"] = code(carol.list_roles)
R["principal_tag_differs"] = code(carol.list_policies)
iam.put_user_policy(UserName="carol", PolicyName="resource-tags", PolicyDocument=doc(
    allow("iam:ListUserTags", Condition={"StringEquals": {"aws:ResourceTag/team": "vision"}})))
R["resource_tag_matches"] = code(lambda: carol.list_user_tags(UserName="carol"))
R["resource_tag_absent"] = code(lambda: carol.list_user_tags(UserName="alice"))
R["bad_tag"] = code(lambda: iam.tag_user(UserName="carol", Tags=[{"Key": "aws:reserved", "Value": "x"}]))

sim = iam.simulate_principal_policy(PolicySourceArn=reader["Arn"], ActionNames=["iam:ListRoles", "iam:CreateUser"])
R["simulate_role"] = [r["EvalDecision"] for r in sim["EvaluationResults"]]

details = iam.get_account_authorization_details()
R["details_users"] = sorted(u["UserName"] for u in details["UserDetailList"])
R["details_local_policies"] = sorted(p["PolicyName"] for p in details["Policies"] if ":aws:policy/" not in p["Arn"])
print(json.dumps(R, default=str))
