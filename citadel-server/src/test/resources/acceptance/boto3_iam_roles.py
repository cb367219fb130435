"""IAM roles with boto3: trust policies validated as IAM does, policies attached and inline, deletion rules."""
import json
import boto3
import botocore.exceptions

iam = boto3.session.Session().client("iam")
account = boto3.session.Session().client("sts").get_caller_identity()["Account"]
results = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]


trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + account + ":root"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="trainer", AssumeRolePolicyDocument=trust, Description="runs training", MaxSessionDuration=7200)["Role"]
results["arn"] = role["Arn"]
results["trust_roundtrip"] = iam.get_role(RoleName="trainer")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Action"]
results["no_principal"] = code(lambda: iam.create_role(RoleName="bad", AssumeRolePolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})))
results["duplicate"] = code(lambda: iam.create_role(RoleName="TRAINER", AssumeRolePolicyDocument=trust))
iam.attach_role_policy(RoleName="trainer", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
iam.put_role_policy(RoleName="trainer", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
results["delete_with_policies"] = code(lambda: iam.delete_role(RoleName="trainer"))
results["roles"] = [r["RoleName"] for r in iam.list_roles()["Roles"]]
iam.detach_role_policy(RoleName="trainer", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
iam.delete_role_policy(RoleName="trainer", PolicyName="s3")
iam.delete_role(RoleName="trainer")
results["gone"] = code(lambda: iam.get_role(RoleName="trainer"))
print(json.dumps(results))
