"""The CloudWatch Logs subset with boto3, in phases (the test writes job output through JobLogs between them).

account: the caller's account, and a member account (through Organizations) made ready.
read:    describe_log_groups, describe_log_streams, get_log_events paged forward and backward,
         filter_log_events with a pattern and paging, bad input, and what the member account sees.
"""
import json
import sys

import boto3
import botocore.exceptions

logs = boto3.client("logs")
account = boto3.client("sts").get_caller_identity()["Account"]
GROUP = "/aws/sagemaker/TrainingJobs"


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def member_session():
    org = boto3.client("organizations")
    accounts = [a for a in org.list_accounts()["Accounts"] if a["Name"] == "logs-member"]
    if accounts:
        member = accounts[0]["Id"]
    else:
        status = org.create_account(AccountName="logs-member", Email="logs-member@example.com")["CreateAccountStatus"]
        member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    creds = boto3.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % member,
                                            RoleSessionName="logs")["Credentials"]
    return member, boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                         aws_session_token=creds["SessionToken"])


def account_phase():
    member, _ = member_session()
    return {"account": account, "member": member}


def read_phase(stream):
    R = {}
    R["groups"] = [[g["logGroupName"], g["arn"]] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/")["logGroups"]]
    streams = logs.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime", descending=True)["logStreams"]
    R["streams"] = [s["logStreamName"] for s in streams]
    R["first_stream_events"] = [streams[0].get("firstEventTimestamp"), streams[0].get("lastEventTimestamp")]
    paged = [s["logStreamName"] for page in logs.get_paginator("describe_log_streams").paginate(
        logGroupName=GROUP, PaginationConfig={"PageSize": 1}) for s in page["logStreams"]]
    R["streams_paged"] = paged

    # Forward from the head, 40 events a page, until the same forward token comes back.
    forward, token, pages = [], None, 0
    while True:
        args = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True, "limit": 40}
        if token:
            args["nextToken"] = token
        out = logs.get_log_events(**args)
        forward += [e["message"] for e in out["events"]]
        pages += 1
        if out["nextForwardToken"] == token:
            break
        token = out["nextForwardToken"]
    R["forward"] = {"count": len(forward), "first": forward[0], "last": forward[-1], "pages": pages,
                    "in_order": forward == sorted(forward, key=lambda m: int(m.split()[1]))}
    # Backward from the tail (the default), until the same backward token comes back.
    backward, token = [], None
    while True:
        args = {"logGroupName": GROUP, "logStreamName": stream, "limit": 40}
        if token:
            args["nextToken"] = token
        out = logs.get_log_events(**args)
        backward = [e["message"] for e in out["events"]] + backward
        if out["nextBackwardToken"] == token:
            break
        token = out["nextBackwardToken"]
    R["backward_equals_forward"] = backward == forward
    e = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=1, startFromHead=True)["events"][0]
    R["event_fields"] = sorted(e.keys())

    # filter_log_events with a pattern, paged by hand (limit 7) and with boto3's paginator.
    found, token = [], None
    while True:
        args = {"logGroupName": GROUP, "filterPattern": "ERROR -\"step 3\"", "limit": 7}
        if token:
            args["nextToken"] = token
        out = logs.filter_log_events(**args)
        found += ["%s|%s" % (ev["logStreamName"], ev["message"]) for ev in out["events"]]
        token = out.get("nextToken")
        if not token:
            break
    R["filtered"] = found
    R["filtered_paginator"] = sum(len(p["events"]) for p in logs.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP, filterPattern="?loss ?accuracy", logStreamNames=[stream]))
    R["filter_fields"] = sorted(logs.filter_log_events(logGroupName=GROUP, limit=1)["events"][0].keys())

    # Bad input.
    R["bad_token"] = code(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName=stream, nextToken="f/tampered"))
    R["bad_filter_token"] = code(lambda: logs.filter_log_events(logGroupName=GROUP, nextToken="AAAA"))
    R["json_pattern"] = code(lambda: logs.filter_log_events(logGroupName=GROUP, filterPattern='{ $.level = "ERROR" }'))
    R["no_group"] = code(lambda: logs.describe_log_streams(logGroupName="/aws/sagemaker/Endpoints"))
    R["no_stream"] = code(lambda: logs.get_log_events(logGroupName=GROUP, logStreamName="nope"))
    R["no_put"] = code(lambda: logs.put_log_events(logGroupName=GROUP, logStreamName=stream,
                                                   logEvents=[{"timestamp": 1, "message": "x"}]))

    # Another account: sees no groups; its own name finds nothing; the owner's ARN is refused by IAM.
    member, session = member_session()
    other = session.client("logs")
    R["member_groups"] = other.describe_log_groups()["logGroups"]
    R["member_by_name"] = code(lambda: other.get_log_events(logGroupName=GROUP, logStreamName=stream))
    arn = "arn:aws:logs:%s:%s:log-group:%s" % (logs.meta.region_name, account, GROUP)
    R["member_by_arn"] = code(lambda: other.get_log_events(logGroupIdentifier=arn, logStreamName=stream))
    R["member_filter_by_arn"] = code(lambda: other.filter_log_events(logGroupIdentifier=arn))
    return R


if __name__ == "__main__":
    phase = sys.argv[1]
    print(json.dumps(account_phase() if phase == "account" else read_phase(sys.argv[2])))
