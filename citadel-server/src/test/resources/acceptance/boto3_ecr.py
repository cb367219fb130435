"""ECR with boto3, in phases (the test pushes and pulls with skopeo between them).

setup:  repositories (one scanned on push, one with immutable tags), bad input refused and changing
        nothing, a member account (through Organizations) and an ECR token for each side.
policy: the repository policy that lets the member account pull.
images: what describe_images / list_images / batch_get_image / scan findings say about a repository.
"""
import json
import sys
import time

import boto3
import botocore.exceptions

ecr = boto3.client("ecr")
account = boto3.client("sts").get_caller_identity()["Account"]
R = {"account": account}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def member_session():
    org = boto3.client("organizations")
    accounts = [a for a in org.list_accounts()["Accounts"] if a["Name"] == "ecr-member"]
    if accounts:
        member = accounts[0]["Id"]
    else:
        status = org.create_account(AccountName="ecr-member", Email="ecr-member@example.com")["CreateAccountStatus"]
        member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    creds = boto3.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % member,
                                            RoleSessionName="ecr")["Credentials"]
    return member, boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                         aws_session_token=creds["SessionToken"])


def password(client):
    import base64
    token = client.get_authorization_token()["authorizationData"][0]
    return base64.b64decode(token["authorizationToken"]).decode().split(":", 1)[1], token["proxyEndpoint"]


phase = sys.argv[1]
if phase == "setup":
    created = ecr.create_repository(repositoryName="tiny", imageScanningConfiguration={"scanOnPush": True})["repository"]
    R["created"] = [created["repositoryUri"].split("/", 1)[1], created["encryptionConfiguration"]["encryptionType"],
                    created["repositoryArn"] == "arn:aws:ecr:us-east-1:%s:repository/tiny" % account]
    ecr.create_repository(repositoryName="team/immutable", imageTagMutability="IMMUTABLE")
    R["duplicate"] = code(lambda: ecr.create_repository(repositoryName="tiny"))
    R["bad_name"] = code(lambda: ecr.create_repository(repositoryName="Upper/Case"))
    R["bad_mutability"] = code(lambda: ecr.create_repository(repositoryName="other", imageTagMutability="SOMETIMES"))
    R["bad_policy"] = code(lambda: ecr.set_repository_policy(repositoryName="tiny", policyText="{not json"))
    R["no_policy"] = code(lambda: ecr.get_repository_policy(repositoryName="tiny"))
    R["missing"] = code(lambda: ecr.describe_repositories(repositoryNames=["nope"]))
    R["repositories"] = sorted(r["repositoryName"] for r in ecr.describe_repositories()["repositories"])
    R["password"], R["proxy"] = password(ecr)
    member, session = member_session()
    R["member"] = member
    R["member_password"], _ = password(session.client("ecr"))
    R["member_describe"] = code(lambda: session.client("ecr").describe_images(registryId=account, repositoryName="tiny"))
elif phase == "policy":
    member = sys.argv[2]
    ecr.set_repository_policy(repositoryName="tiny", policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "MemberPulls", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % member},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"]}]}))
    R["policy"] = json.loads(ecr.get_repository_policy(repositoryName="tiny")["policyText"])["Statement"][0]["Sid"]
    _, session = member_session()
    R["member_describe"] = len(session.client("ecr").describe_images(registryId=account, repositoryName="tiny")["imageDetails"])
elif phase == "images":
    name = sys.argv[2]
    if len(sys.argv) > 4:  # a scan on demand first
        started = ecr.start_image_scan(repositoryName=name, imageId={"imageTag": "v1"})
        R["started"] = started["imageScanStatus"]["status"]
    details = ecr.describe_images(repositoryName=name)["imageDetails"]
    R["images"] = [[d["imageDigest"], sorted(d.get("imageTags", [])), d["imageManifestMediaType"]] for d in details]
    R["list"] = sorted(i.get("imageTag", "") for i in ecr.list_images(repositoryName=name)["imageIds"])
    got = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "v1"}, {"imageTag": "missing"}])
    R["batch_get"] = [[i["imageId"]["imageDigest"], len(i["imageManifest"])] for i in got["images"]]
    R["batch_get_failures"] = [f["failureCode"] for f in got["failures"]]
    if len(sys.argv) > 3:
        for _ in range(600):
            status = ecr.describe_image_scan_findings(repositoryName=name, imageId={"imageTag": "v1"})
            if status["imageScanStatus"]["status"] != "IN_PROGRESS":
                break
            time.sleep(0.5)
        R["scan_status"] = status["imageScanStatus"]["status"]
        R["findings"] = [[f["name"], f["severity"], {a["key"]: a["value"] for a in f.get("attributes", [])}]
                         for f in status.get("imageScanFindings", {}).get("findings", [])]
elif phase == "delete":
    name = sys.argv[2]
    R["not_empty"] = code(lambda: ecr.delete_repository(repositoryName=name))
    R["deleted"] = ecr.delete_repository(repositoryName=name, force=True)["repository"]["repositoryName"]
    R["gone"] = code(lambda: ecr.describe_images(repositoryName=name))
print(json.dumps(R))
