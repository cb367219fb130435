"""CloudTrail trails with boto3: create (the bucket must exist and its policy must let
cloudtrail.amazonaws.com write), get, describe, status, start/stop logging, event selectors,
update, delete, and CloudTrail's errors for bad input (each changing nothing)."""
import json

import boto3
import botocore.exceptions
from botocore.config import Config

ct = boto3.client("cloudtrail")
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
account = boto3.client("sts").get_caller_identity()["Account"]
R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"].get("Message", "")


s3.create_bucket(Bucket="trail-logs")
arn = "arn:aws:cloudtrail:us-east-1:%s:trail/management" % account
R["no_bucket"] = code(lambda: ct.create_trail(Name="management", S3BucketName="no-such-bucket"))
R["no_policy"] = code(lambda: ct.create_trail(Name="management", S3BucketName="trail-logs"))
R["bad_name"] = code(lambda: ct.create_trail(Name="-bad..name", S3BucketName="trail-logs"))
s3.put_bucket_policy(Bucket="trail-logs", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
     "Resource": "arn:aws:s3:::trail-logs", "Condition": {"StringEquals": {"aws:SourceArn": arn}}},
    {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::trail-logs/audit/AWSLogs/%s/*" % account,
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}}}]}))
R["wrong_prefix"] = code(lambda: ct.create_trail(Name="management", S3BucketName="trail-logs", S3KeyPrefix="elsewhere"))
created = ct.create_trail(Name="management", S3BucketName="trail-logs", S3KeyPrefix="audit", EnableLogFileValidation=True,
                          IsMultiRegionTrail=True)
R["created"] = [created["TrailARN"] == arn, created["S3KeyPrefix"], created["LogFileValidationEnabled"]]
R["duplicate"] = code(lambda: ct.create_trail(Name="management", S3BucketName="trail-logs", S3KeyPrefix="audit"))
R["get"] = ct.get_trail(Name=arn)["Trail"]["HomeRegion"]
R["foreign_arn"] = code(lambda: ct.get_trail(Name="arn:aws:cloudtrail:us-east-1:999999999999:trail/management"))
R["described"] = sorted(t["Name"] for t in ct.describe_trails()["trailList"])
R["status_before"] = ct.get_trail_status(Name="management")["IsLogging"]
ct.start_logging(Name="management")
status = ct.get_trail_status(Name="management")
R["status_started"] = [status["IsLogging"], "StartLoggingTime" in status]
ct.stop_logging(Name=arn)
R["status_stopped"] = [ct.get_trail_status(Name="management")["IsLogging"], "StopLoggingTime" in ct.get_trail_status(Name="management")]
R["default_selectors"] = ct.get_event_selectors(TrailName="management")["EventSelectors"][0]["ReadWriteType"]
put = ct.put_event_selectors(TrailName="management", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                                                                      "DataResources": [{"Type": "AWS::S3::Object",
                                                                                         "Values": ["arn:aws:s3:::training-data/"]}]}])
R["selectors"] = put["EventSelectors"][0]["DataResources"][0]["Values"]
R["bad_selector"] = code(lambda: ct.put_event_selectors(TrailName="management", EventSelectors=[{
    "ReadWriteType": "Sometimes"}]))
R["bad_data_resource"] = code(lambda: ct.put_event_selectors(TrailName="management", EventSelectors=[{
    "DataResources": [{"Type": "AWS::DynamoDB::Table", "Values": ["x"]}]}]))
R["selectors_unchanged"] = ct.get_event_selectors(TrailName="management")["EventSelectors"][0]["ReadWriteType"]
updated = ct.update_trail(Name="management", EnableLogFileValidation=False)
R["updated"] = updated["LogFileValidationEnabled"]
R["sns_refused"] = code(lambda: ct.update_trail(Name="management", SnsTopicName="alerts"))
ct.delete_trail(Name="management")
R["deleted"] = code(lambda: ct.get_trail(Name="management"))
R["delete_missing"] = code(lambda: ct.delete_trail(Name="management"))
# --- event history: LookupEvents shows refused and malformed requests with their error codes ---
import datetime
iam = boto3.client("iam")
iam.create_user(UserName="no-rights")
key = iam.create_access_key(UserName="no-rights")["AccessKey"]
nobody = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
R["refused_call"] = code(lambda: nobody.client("s3", config=Config(s3={"addressing_style": "path"})).list_buckets())
bogus = boto3.session.Session(aws_access_key_id="AKIAAAAAAAAAAAAAAAAA", aws_secret_access_key="x" * 40)
R["malformed_call"] = code(lambda: bogus.client("sts").get_caller_identity())
refused = ct.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "no-rights"}])["Events"]
R["lookup_refused"] = [(e["EventName"], json.loads(e["CloudTrailEvent"]).get("errorCode")) for e in refused]
unauthenticated = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "sts.amazonaws.com"}])["Events"]
R["lookup_malformed"] = sorted({json.loads(e["CloudTrailEvent"]).get("errorCode", "") for e in unauthenticated})
by_name = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}])["Events"]
R["lookup_create_trail"] = [len(by_name), sorted({json.loads(e["CloudTrailEvent"]).get("errorCode", "ok") for e in by_name})]
by_resource = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])["Events"]
R["lookup_by_resource"] = sorted({e["EventName"] for e in by_resource})
pages = list(ct.get_paginator("lookup_events").paginate(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}],
                                                        PaginationConfig={"PageSize": 2}))
R["lookup_paged"] = [len(p["Events"]) for p in pages]
R["lookup_paged_distinct"] = len({e["EventId"] for p in pages for e in p["Events"]})
R["lookup_two_attributes"] = code(lambda: ct.lookup_events(LookupAttributes=[
    {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}, {"AttributeKey": "Username", "AttributeValue": "admin"}]))
now = datetime.datetime.now(datetime.timezone.utc)
R["lookup_bad_range"] = code(lambda: ct.lookup_events(StartTime=now, EndTime=now - datetime.timedelta(hours=1)))
R["lookup_future_empty"] = len(ct.lookup_events(StartTime=now + datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=2))["Events"])
# --- digest signing keys, in the form validate-logs loads them (PKCS#1 DER, fingerprint = MD5 of it) ---
import hashlib
import rsa
keys = ct.list_public_keys()["PublicKeyList"]
R["public_keys"] = len(keys)
R["public_key_pkcs1"] = rsa.PublicKey.load_pkcs1(keys[0]["Value"], format="DER").n.bit_length()
R["public_key_fingerprint"] = keys[0]["Fingerprint"] == hashlib.md5(keys[0]["Value"]).hexdigest()
R["public_keys_stable"] = ct.list_public_keys(StartTime=now - datetime.timedelta(hours=1),
                                              EndTime=now + datetime.timedelta(hours=2))["PublicKeyList"][0]["Fingerprint"] == keys[0]["Fingerprint"]
print(json.dumps(R))
