"""boto3 against Citadel using only the environment of client/env (endpoint, CA, profile, region)."""
import json
import boto3
import botocore.exceptions

session = boto3.session.Session()
sts = session.client("sts")
org = session.client("organizations")

caller = sts.get_caller_identity()
created = org.create_account(AccountName="boto3-research", Email="boto3@example.com")["CreateAccountStatus"]
status = org.describe_create_account_status(CreateAccountRequestId=created["Id"])["CreateAccountStatus"]
accounts = [a["Id"] for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]

# A wrong secret must be refused with STS's error code.
creds = session.get_credentials()
bad = boto3.session.Session(aws_access_key_id=creds.access_key, aws_secret_access_key="x" * 40)
try:
    bad.client("sts").get_caller_identity()
    denied = "accepted"
except botocore.exceptions.ClientError as e:
    denied = e.response["Error"]["Code"]

print(json.dumps({
    "caller": {k: caller[k] for k in ("Account", "Arn", "UserId")},
    "created": {"State": status["State"], "AccountId": status.get("AccountId")},
    "accounts": accounts,
    "denied": denied,
}))
