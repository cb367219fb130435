"""CloudTrail delivery with boto3, in phases (the test runs `aws cloudtrail validate-logs` between them).

setup:   a trail with log file validation and an S3 data-event selector on one bucket; management
         calls, data events on the selected bucket and on another, a refused call; the operator
         trail refuses to be stopped, changed or deleted.
records: every delivered log file of the trail, decompressed, as one list of records.
tamper KEY1 KEY2: changes one delivered log file and deletes another.
"""
import gzip
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
ct = boto3.client("cloudtrail")
account = boto3.client("sts").get_caller_identity()["Account"]
BUCKET = "delivered-trail"
PREFIX = "logs"
arn = "arn:aws:cloudtrail:us-east-1:%s:trail/deliveries" % account
R = {"account": account, "trail_arn": arn, "bucket": BUCKET}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def delivered_logs():
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "/AWSLogs/%s/CloudTrail/" % account):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


phase = sys.argv[1]
if phase == "setup":
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": "arn:aws:s3:::" + BUCKET, "Condition": {"StringEquals": {"aws:SourceArn": arn}}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/%s/AWSLogs/%s/*" % (BUCKET, PREFIX, account),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}}}]}))
    ct.create_trail(Name="deliveries", S3BucketName=BUCKET, S3KeyPrefix=PREFIX, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName="deliveries", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::selected-data/"]}]}])
    ct.start_logging(Name="deliveries")
    for b in ("selected-data", "unselected-data"):
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="train.csv", Body=b"1,2,3\n")
        s3.get_object(Bucket=b, Key="train.csv")["Body"].read()
    iam = boto3.client("iam")
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    nobody = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    R["refused_call"] = code(lambda: nobody.client("s3", config=Config(s3={"addressing_style": "path"})).list_buckets())
    R["no_rights_secret"] = key["SecretAccessKey"]
    operator = [t for t in ct.describe_trails()["trailList"] if t["Name"] == "citadel-operator"][0]
    R["operator_trail"] = [operator["TrailARN"], operator["LogFileValidationEnabled"], operator["IsMultiRegionTrail"]]
    R["operator_stop"] = code(lambda: ct.stop_logging(Name="citadel-operator"))
    R["operator_delete"] = code(lambda: ct.delete_trail(Name=operator["TrailARN"]))
    R["operator_update"] = code(lambda: ct.update_trail(Name="citadel-operator", EnableLogFileValidation=False))
    R["operator_selectors"] = code(lambda: ct.put_event_selectors(TrailName="citadel-operator", EventSelectors=[
        {"ReadWriteType": "ReadOnly"}]))
    R["operator_logging"] = ct.get_trail_status(Name="citadel-operator")["IsLogging"]
    # A trail whose bucket refuses CloudTrail: the delivery error shows in its status.
    s3.create_bucket(Bucket="refusing-bucket")
    refusing_arn = "arn:aws:cloudtrail:us-east-1:%s:trail/refused" % account
    s3.put_bucket_policy(Bucket="refusing-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": ["arn:aws:s3:::refusing-bucket", "arn:aws:s3:::refusing-bucket/AWSLogs/%s/*" % account]}]}))
    ct.create_trail(Name="refused", S3BucketName="refusing-bucket")
    ct.start_logging(Name="refused")
    s3.delete_bucket_policy(Bucket="refusing-bucket")
elif phase == "status":
    status = ct.get_trail_status(Name="refused")
    R["refused_status"] = [status.get("LatestDeliveryError", ""), "LatestDeliveryTime" in status]
    status = ct.get_trail_status(Name="deliveries")
    R["delivered_status"] = [status.get("LatestDeliveryError", ""), "LatestDeliveryTime" in status, "LatestDigestDeliveryTime" in status]
elif phase == "records":
    records = []
    keys = delivered_logs()
    for k in keys:
        records += json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()))["Records"]
    R["files"] = len(keys)
    R["records"] = records
elif phase == "tamper":
    changed, deleted = sys.argv[2], sys.argv[3]
    body = json.loads(gzip.decompress(s3.get_object(Bucket=BUCKET, Key=changed)["Body"].read()))
    body["Records"][0]["sourceIPAddress"] = "203.0.113.66"
    s3.put_object(Bucket=BUCKET, Key=changed, Body=gzip.compress(json.dumps(body).encode()))
    s3.delete_object(Bucket=BUCKET, Key=deleted)
print(json.dumps(R))
