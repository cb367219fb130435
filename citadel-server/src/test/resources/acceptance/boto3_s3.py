"""S3 with boto3, path style: buckets, objects with metadata, ranges, conditional reads, listings with
delimiter and pagination, AWS's errors; a known marker is uploaded for the test to look for on disk."""
import hashlib
import json
import os

import boto3
import boto3.s3.transfer
import botocore.exceptions
from botocore.config import Config

s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"].get("Message", "")


s3.create_bucket(Bucket="training-data")
R["duplicate"] = code(lambda: s3.create_bucket(Bucket="training-data"))
R["bad_name"] = code(lambda: s3.create_bucket(Bucket="Bad_Name"))
data = os.urandom(3 * 1024 * 1024 + 5)
put = s3.put_object(Bucket="training-data", Key="images/cat 1.jpg", Body=data, Metadata={"label": "cat"})
R["etag"] = put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
R["sse"] = put.get("ServerSideEncryption")
got = s3.get_object(Bucket="training-data", Key="images/cat 1.jpg")
R["round_trip"] = got["Body"].read() == data
R["metadata"] = got["Metadata"]
R["range"] = s3.get_object(Bucket="training-data", Key="images/cat 1.jpg", Range="bytes=100-199")["Body"].read() == data[100:200]
R["suffix_range"] = s3.get_object(Bucket="training-data", Key="images/cat 1.jpg", Range="bytes=-10")["Body"].read() == data[-10:]
R["invalid_range"] = code(lambda: s3.get_object(Bucket="training-data", Key="images/cat 1.jpg", Range="bytes=999999999-"))
R["if_match_fails"] = code(lambda: s3.get_object(Bucket="training-data", Key="images/cat 1.jpg", IfMatch='"0000"'))
R["head_length"] = s3.head_object(Bucket="training-data", Key="images/cat 1.jpg")["ContentLength"]
s3.put_object(Bucket="training-data", Key="images/dog.jpg", Body=b"woof")
s3.put_object(Bucket="training-data", Key="labels.csv", Body=b"a,b")
s3.put_object(Bucket="training-data", Key="a//b/../c%2Fd", Body=b"odd key")
R["odd_key"] = s3.get_object(Bucket="training-data", Key="a//b/../c%2Fd")["Body"].read().decode()
listing = s3.list_objects_v2(Bucket="training-data", Delimiter="/")
R["delimited"] = sorted([c["Key"] for c in listing.get("Contents", [])] + [p["Prefix"] for p in listing.get("CommonPrefixes", [])])
pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="training-data", PaginationConfig={"PageSize": 1}))
R["paged"] = [c["Key"] for p in pages for c in p.get("Contents", [])]
R["v1"] = [c["Key"] for c in s3.list_objects(Bucket="training-data", Prefix="images/")["Contents"]]
s3.put_object(Bucket="training-data", Key="marker.txt", Body=(os.environ["MARKER"] + " and more text") * 100)
big = os.urandom(20 * 1024 * 1024 + 3)
with open("/tmp/citadel-s3-big.bin", "wb") as f:
    f.write(big)
boto3.s3.transfer.S3Transfer  # noqa: the managed transfer splits at 8 MiB into multipart uploads
s3.upload_file("/tmp/citadel-s3-big.bin", "training-data", "big/model.bin")
s3.download_file("training-data", "big/model.bin", "/tmp/citadel-s3-big.back")
with open("/tmp/citadel-s3-big.back", "rb") as f:
    R["multipart_round_trip"] = f.read() == big
R["multipart_etag"] = s3.head_object(Bucket="training-data", Key="big/model.bin")["ETag"]
up = s3.create_multipart_upload(Bucket="training-data", Key="small-parts")["UploadId"]
p1 = s3.upload_part(Bucket="training-data", Key="small-parts", UploadId=up, PartNumber=1, Body=b"a" * 100)["ETag"]
p2 = s3.upload_part(Bucket="training-data", Key="small-parts", UploadId=up, PartNumber=2, Body=b"b" * 100)["ETag"]
R["uploads_listed"] = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="training-data").get("Uploads", [])] == [up]
R["parts_listed"] = [p["PartNumber"] for p in s3.list_parts(Bucket="training-data", Key="small-parts", UploadId=up)["Parts"]]
R["too_small"] = code(lambda: s3.complete_multipart_upload(Bucket="training-data", Key="small-parts", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": p1}, {"PartNumber": 2, "ETag": p2}]}))
R["wrong_order"] = code(lambda: s3.complete_multipart_upload(Bucket="training-data", Key="small-parts", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 2, "ETag": p2}, {"PartNumber": 1, "ETag": p1}]}))
R["wrong_etag"] = code(lambda: s3.complete_multipart_upload(Bucket="training-data", Key="small-parts", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]}))
s3.abort_multipart_upload(Bucket="training-data", Key="small-parts", UploadId=up)
R["aborted"] = code(lambda: s3.list_parts(Bucket="training-data", Key="small-parts", UploadId=up))
s3.delete_object(Bucket="training-data", Key="big/model.bin")
copied = s3.copy_object(Bucket="training-data", Key="copies/labels.csv", CopySource={"Bucket": "training-data", "Key": "labels.csv"})
R["copy"] = s3.get_object(Bucket="training-data", Key="copies/labels.csv")["Body"].read().decode()
R["copy_missing_source"] = code(lambda: s3.copy_object(Bucket="training-data", Key="c2", CopySource={"Bucket": "training-data", "Key": "nope"}))
s3.put_object(Bucket="training-data", Key="tmp/1", Body=b"1")
s3.put_object(Bucket="training-data", Key="tmp/2", Body=b"2")
deleted = s3.delete_objects(Bucket="training-data", Delete={"Objects": [{"Key": "tmp/1"}, {"Key": "tmp/2"}, {"Key": "tmp/never"}]})
R["delete_objects"] = sorted(d["Key"] for d in deleted.get("Deleted", []))
R["delete_objects_gone"] = s3.list_objects_v2(Bucket="training-data", Prefix="tmp/")["KeyCount"]
s3.delete_object(Bucket="training-data", Key="copies/labels.csv")

# --- SSE-KMS: a customer key, used through S3 only as far as the caller may use the key ---
kms = boto3.client("kms")
cmk = kms.create_key(Description="s3 objects")["KeyMetadata"]
kms.put_key_policy(KeyId=cmk["KeyId"], PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + cmk["AWSAccountId"] + ":root"}, "Action": "kms:*", "Resource": "*"},
    {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]}))
put_kms = s3.put_object(Bucket="training-data", Key="kms/model.bin", Body=b"weights under a customer key",
                        ServerSideEncryption="aws:kms", SSEKMSKeyId=cmk["KeyId"])
R["sse_kms_put"] = [put_kms.get("ServerSideEncryption"), put_kms.get("SSEKMSKeyId") == cmk["Arn"]]
got_kms = s3.get_object(Bucket="training-data", Key="kms/model.bin")
R["sse_kms_get"] = [got_kms["Body"].read().decode(), got_kms.get("ServerSideEncryption")]
blob_via_kms = kms.encrypt(KeyId=cmk["KeyId"], Plaintext=b"x")["CiphertextBlob"]
R["direct_decrypt_denied_by_via_service"] = code(lambda: kms.decrypt(CiphertextBlob=blob_via_kms))
kms.disable_key(KeyId=cmk["KeyId"])
R["sse_kms_get_disabled_key"] = code(lambda: s3.get_object(Bucket="training-data", Key="kms/model.bin"))
kms.enable_key(KeyId=cmk["KeyId"])
R["sse_kms_unknown_key"] = code(lambda: s3.put_object(Bucket="training-data", Key="kms/x", Body=b"x", ServerSideEncryption="aws:kms",
                                                      SSEKMSKeyId="alias/none"))
s3.delete_object(Bucket="training-data", Key="kms/model.bin")

# --- bucket policies: another account needs the bucket policy and its own IAM policy ---
org = boto3.client("organizations")
sts = boto3.client("sts")
status = org.create_account(AccountName="s3-member", Email="s3-member@example.com")["CreateAccountStatus"]
member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
creds = sts.assume_role(RoleArn="arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole", RoleSessionName="s3")["Credentials"]
m = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"]).client("s3", config=Config(s3={"addressing_style": "path"}))
R["member_before_policy"] = code(lambda: m.get_object(Bucket="training-data", Key="labels.csv"))
R["no_policy_yet"] = code(lambda: s3.get_bucket_policy(Bucket="training-data"))
R["malformed_policy"] = code(lambda: s3.put_bucket_policy(Bucket="training-data", Policy='{"Version":"2012-10-17"}'))
s3.put_bucket_policy(Bucket="training-data", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + member + ":root"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::training-data/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::training-data/secret/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}))
R["policy_round_trip"] = json.loads(s3.get_bucket_policy(Bucket="training-data")["Policy"])["Statement"][0]["Action"]
R["member_with_policy"] = m.get_object(Bucket="training-data", Key="labels.csv")["Body"].read().decode()
R["member_list_not_granted"] = code(lambda: m.list_objects_v2(Bucket="training-data"))
s3.put_object(Bucket="training-data", Key="secret/weights", Body=b"w")
R["owner_denied_by_source_ip"] = code(lambda: s3.get_object(Bucket="training-data", Key="secret/weights"))
s3.delete_bucket_policy(Bucket="training-data")
R["member_after_delete"] = code(lambda: m.get_object(Bucket="training-data", Key="labels.csv"))
s3.delete_object(Bucket="training-data", Key="secret/weights")

R["no_key"] = code(lambda: s3.get_object(Bucket="training-data", Key="missing"))
R["no_bucket"] = code(lambda: s3.get_object(Bucket="missing-bucket", Key="x"))
R["bad_md5"] = code(lambda: s3.put_object(Bucket="training-data", Key="x", Body=b"abc", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA=="))
R["bad_md5_changed_nothing"] = code(lambda: s3.head_object(Bucket="training-data", Key="x"))
R["sse_c"] = code(lambda: s3.put_object(Bucket="training-data", Key="y", Body=b"abc", SSECustomerAlgorithm="AES256",
                                        SSECustomerKey="k" * 32))
R["long_key"] = code(lambda: s3.put_object(Bucket="training-data", Key="k" * 1025, Body=b"x"))
R["not_empty"] = code(lambda: s3.delete_bucket(Bucket="training-data"))
s3.delete_object(Bucket="training-data", Key="images/dog.jpg")
R["deleted"] = code(lambda: s3.head_object(Bucket="training-data", Key="images/dog.jpg"))
R["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
s3.create_bucket(Bucket="scratch")
s3.delete_bucket(Bucket="scratch")
R["bucket_deleted"] = code(lambda: s3.head_bucket(Bucket="scratch"))
print(json.dumps(R))
