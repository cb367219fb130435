"""IAM users with boto3: a new user is denied, allowed once a policy is attached, and locked out when its key is deactivated."""
import json
import time
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
        return e.response["Error"]["Code"]


iam.create_user(UserName="bob", Path="/ml/")
results["duplicate"] = code(lambda: iam.create_user(UserName="BOB"))
results["user_arn"] = iam.get_user(UserName="bob")["User"]["Arn"]
key = iam.create_access_key(UserName="bob")["AccessKey"]
bob = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                            region_name=admin.region_name)
results["secret"] = key["SecretAccessKey"]
results["bob_identity"] = bob.client("sts").get_caller_identity()["Arn"]
results["bob_list_before"] = code(lambda: bob.client("organizations").list_accounts())
iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
results["bob_list_readonly"] = code(lambda: bob.client("organizations").list_accounts())
results["bob_create_readonly"] = code(lambda: bob.client("organizations").create_account(AccountName="x", Email="bob-x@example.com"))
deny_list = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "organizations:List*", "Resource": "*"}]})
iam.put_user_policy(UserName="bob", PolicyName="no-listing", PolicyDocument=deny_list)
results["bob_list_denied_inline"] = code(lambda: bob.client("organizations").list_accounts())
results["inline_names"] = iam.list_user_policies(UserName="bob")["PolicyNames"]
results["inline_document"] = iam.get_user_policy(UserName="bob", PolicyName="no-listing")["PolicyDocument"]
results["bad_inline"] = code(lambda: iam.put_user_policy(UserName="bob", PolicyName="bad", PolicyDocument='{"Statement":[]}'))
results["delete_with_inline"] = code(lambda: iam.delete_user(UserName="bob"))
iam.delete_user_policy(UserName="bob", PolicyName="no-listing")
results["bob_list_after_inline"] = code(lambda: bob.client("organizations").list_accounts())
results["attached"] = [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="bob")["AttachedPolicies"]]
results["unknown_policy"] = code(lambda: iam.attach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy"))
iam.create_access_key(UserName="bob")
results["third_key"] = code(lambda: iam.create_access_key(UserName="bob"))
results["delete_with_keys"] = code(lambda: iam.delete_user(UserName="bob"))
iam.update_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"], Status="Inactive")
results["bob_inactive"] = code(lambda: bob.client("sts").get_caller_identity())
for k in iam.list_access_keys(UserName="bob")["AccessKeyMetadata"]:
    iam.delete_access_key(UserName="bob", AccessKeyId=k["AccessKeyId"])
iam.detach_user_policy(UserName="bob", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
iam.delete_user(UserName="bob")
results["deleted"] = code(lambda: iam.get_user(UserName="bob"))
results["users"] = [u["UserName"] for u in iam.list_users()["Users"]]
print(json.dumps(results))
