"""IAM groups with boto3: a user receives its groups' policies, and an explicit Deny in a group policy wins."""
import json
import boto3
import botocore.exceptions

admin = boto3.session.Session()
iam = admin.client("iam")
results = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]


iam.create_user(UserName="carol")
key = iam.create_access_key(UserName="carol")["AccessKey"]
carol = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                              region_name=admin.region_name).client("organizations")
iam.create_group(GroupName="readers")
results["duplicate_group"] = code(lambda: iam.create_group(GroupName="Readers"))
iam.attach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
results["before_join"] = code(lambda: carol.list_accounts())
iam.add_user_to_group(GroupName="readers", UserName="carol")
results["members"] = [u["UserName"] for u in iam.get_group(GroupName="readers")["Users"]]
results["groups_for_user"] = [g["GroupName"] for g in iam.list_groups_for_user(UserName="carol")["Groups"]]
results["after_join"] = code(lambda: carol.list_accounts())
carol_arn = iam.get_user(UserName="carol")["User"]["Arn"]


def simulate(actions):
    out = iam.simulate_principal_policy(PolicySourceArn=carol_arn, ActionNames=actions)["EvaluationResults"]
    return [r["EvalDecision"] for r in out]


results["simulated_after_join"] = simulate(["organizations:ListAccounts", "organizations:CreateAccount"])
iam.put_group_policy(GroupName="readers", PolicyName="no-listing", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:ListAccounts", "Resource": "*"}]}))
results["group_deny"] = code(lambda: carol.list_accounts())
results["simulated_group_deny"] = simulate(["organizations:ListAccounts"])
results["simulate_unknown"] = code(lambda: iam.simulate_principal_policy(
    PolicySourceArn=carol_arn.replace("carol", "nobody"), ActionNames=["s3:GetObject"]))
results["delete_group_in_use"] = code(lambda: iam.delete_group(GroupName="readers"))
iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
results["delete_user_in_group"] = code(lambda: iam.delete_user(UserName="carol"))
iam.delete_group_policy(GroupName="readers", PolicyName="no-listing")
iam.detach_group_policy(GroupName="readers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
iam.remove_user_from_group(GroupName="readers", UserName="carol")
iam.delete_group(GroupName="readers")
iam.delete_user(UserName="carol")
results["group_gone"] = code(lambda: iam.get_group(GroupName="readers"))
print(json.dumps(results))
