"""S3 with boto3: versioning and delete markers, default encryption (SSE-S3 and SSE-KMS, bucket keys),
object and bucket tags, additional checksums (single PUT, multipart composite and full-object),
presigned PUT, and AWS's errors for bad input (each leaving nothing changed)."""
import base64
import hashlib
import json
import os
import urllib.request
import zlib

import boto3
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


B = "versioned-data"
s3.create_bucket(Bucket=B)
R["versioning_initially"] = s3.get_bucket_versioning(Bucket=B).get("Status", "")
R["bad_versioning"] = code(lambda: s3.put_bucket_versioning(Bucket=B, VersioningConfiguration={"Status": "Sometimes"}))
s3.put_object(Bucket=B, Key="before", Body=b"written before versioning")
s3.put_bucket_versioning(Bucket=B, VersioningConfiguration={"Status": "Enabled"})
R["versioning"] = s3.get_bucket_versioning(Bucket=B)["Status"]
v1 = s3.put_object(Bucket=B, Key="model.bin", Body=b"first")["VersionId"]
v2 = s3.put_object(Bucket=B, Key="model.bin", Body=b"second")["VersionId"]
R["distinct_versions"] = v1 != v2 and len(v1) == 32
R["latest"] = s3.get_object(Bucket=B, Key="model.bin")["Body"].read().decode()
R["old_version"] = s3.get_object(Bucket=B, Key="model.bin", VersionId=v1)["Body"].read().decode()
R["head_version_id"] = s3.head_object(Bucket=B, Key="model.bin")["VersionId"] == v2
deleted = s3.delete_object(Bucket=B, Key="model.bin")
R["delete_marker"] = [deleted.get("DeleteMarker"), len(deleted.get("VersionId", ""))]
R["after_delete"] = code(lambda: s3.get_object(Bucket=B, Key="model.bin"))
R["listed_after_delete"] = [c["Key"] for c in s3.list_objects_v2(Bucket=B).get("Contents", [])]
versions = s3.list_object_versions(Bucket=B)
R["versions"] = sorted((v["Key"], v["VersionId"] == "null", v["IsLatest"]) for v in versions.get("Versions", []))
R["markers"] = [(m["Key"], m["IsLatest"]) for m in versions.get("DeleteMarkers", [])]
R["get_marker_version"] = code(lambda: s3.get_object(Bucket=B, Key="model.bin", VersionId=deleted["VersionId"]))
R["no_such_version"] = code(lambda: s3.get_object(Bucket=B, Key="model.bin", VersionId="A" * 32))
R["bad_version_id"] = code(lambda: s3.get_object(Bucket=B, Key="model.bin", VersionId="../../etc"))
s3.delete_object(Bucket=B, Key="model.bin", VersionId=deleted["VersionId"])
R["undeleted"] = s3.get_object(Bucket=B, Key="model.bin")["Body"].read().decode()
s3.delete_object(Bucket=B, Key="model.bin", VersionId=v2)
R["previous_is_latest"] = s3.get_object(Bucket=B, Key="model.bin")["Body"].read().decode()
copy = s3.copy_object(Bucket=B, Key="copied", CopySource={"Bucket": B, "Key": "model.bin", "VersionId": v1})
R["copy_from_version"] = [s3.get_object(Bucket=B, Key="copied")["Body"].read().decode(), copy.get("CopySourceVersionId") == v1]
for i in range(3):
    s3.put_object(Bucket=B, Key="paged", Body=str(i).encode())
pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=B, Prefix="paged", PaginationConfig={"PageSize": 1}))
R["version_pages"] = [len(p.get("Versions", [])) for p in pages]
R["paged_versions"] = len({v["VersionId"] for p in pages for v in p.get("Versions", [])})
multi = s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "copied"}, {"Key": "model.bin", "VersionId": v1}]})
R["delete_objects_versioned"] = sorted((d["Key"], d.get("DeleteMarker", False), "VersionId" in d) for d in multi["Deleted"])
R["bucket_not_empty_with_versions"] = code(lambda: s3.delete_bucket(Bucket=B))
s3.put_bucket_versioning(Bucket=B, VersioningConfiguration={"Status": "Suspended"})
s3.put_object(Bucket=B, Key="suspended", Body=b"a")
s3.put_object(Bucket=B, Key="suspended", Body=b"b")
R["suspended_versions"] = [v["VersionId"] for v in s3.list_object_versions(Bucket=B, Prefix="suspended").get("Versions", [])]
s3.delete_object(Bucket=B, Key="suspended")
R["suspended_delete"] = [(m["VersionId"], m["IsLatest"]) for m in s3.list_object_versions(Bucket=B, Prefix="suspended").get("DeleteMarkers", [])]
R["suspended_null_version_replaced"] = s3.list_object_versions(Bucket=B, Prefix="suspended").get("Versions", [])
# Empty the bucket through its versions, then it can go.
for page in s3.get_paginator("list_object_versions").paginate(Bucket=B):
    for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
        s3.delete_object(Bucket=B, Key=v["Key"], VersionId=v["VersionId"])
s3.delete_bucket(Bucket=B)
R["versioned_bucket_deleted"] = code(lambda: s3.head_bucket(Bucket=B))

# --- default encryption ---
E = "encrypted-data"
s3.create_bucket(Bucket=E)
R["default_encryption"] = s3.get_bucket_encryption(Bucket=E)["ServerSideEncryptionConfiguration"]["Rules"][0]
kms = boto3.client("kms")
cmk = kms.create_key(Description="bucket default")["KeyMetadata"]
s3.put_bucket_encryption(Bucket=E, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {
    "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cmk["Arn"]}, "BucketKeyEnabled": True}]})
rule = s3.get_bucket_encryption(Bucket=E)["ServerSideEncryptionConfiguration"]["Rules"][0]
R["kms_rule"] = [rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == cmk["Arn"],
                 rule["BucketKeyEnabled"]]
put = s3.put_object(Bucket=E, Key="by-default", Body=b"sealed under the bucket's key")
R["default_kms_put"] = [put["ServerSideEncryption"], put["SSEKMSKeyId"] == cmk["Arn"], put.get("BucketKeyEnabled")]
head = s3.head_object(Bucket=E, Key="by-default")
R["default_kms_head"] = [head["ServerSideEncryption"], head["SSEKMSKeyId"] == cmk["Arn"], head.get("BucketKeyEnabled")]
R["explicit_aes256"] = s3.put_object(Bucket=E, Key="sse-s3", Body=b"x", ServerSideEncryption="AES256")["ServerSideEncryption"]
big = os.urandom(12 * 1024 * 1024)
with open("/tmp/citadel-s3-kms-mpu.bin", "wb") as f:
    f.write(big)
s3.upload_file("/tmp/citadel-s3-kms-mpu.bin", E, "multipart-kms")
mh = s3.head_object(Bucket=E, Key="multipart-kms")
R["multipart_kms"] = [mh["ServerSideEncryption"], mh["SSEKMSKeyId"] == cmk["Arn"], s3.get_object(Bucket=E, Key="multipart-kms")["Body"].read() == big]
R["bad_rule"] = code(lambda: s3.put_bucket_encryption(Bucket=E, ServerSideEncryptionConfiguration={"Rules": [{
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": cmk["Arn"]}}]}))
R["bad_rule_changed_nothing"] = s3.get_bucket_encryption(Bucket=E)["ServerSideEncryptionConfiguration"]["Rules"][0][
    "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
kms.disable_key(KeyId=cmk["KeyId"])
R["put_disabled_default_key"] = code(lambda: s3.put_object(Bucket=E, Key="nope", Body=b"x"))
kms.enable_key(KeyId=cmk["KeyId"])
s3.delete_bucket_encryption(Bucket=E)
R["after_delete_encryption"] = s3.put_object(Bucket=E, Key="plain-default", Body=b"x")["ServerSideEncryption"]

# --- tags ---
R["no_bucket_tags"] = code(lambda: s3.get_bucket_tagging(Bucket=E))
s3.put_bucket_tagging(Bucket=E, Tagging={"TagSet": [{"Key": "team", "Value": "vision"}, {"Key": "cost-center", "Value": "42"}]})
R["bucket_tags"] = sorted((t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=E)["TagSet"])
R["duplicate_tag"] = code(lambda: s3.put_bucket_tagging(Bucket=E, Tagging={"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}))
s3.delete_bucket_tagging(Bucket=E)
R["bucket_tags_deleted"] = code(lambda: s3.get_bucket_tagging(Bucket=E))
s3.put_object(Bucket=E, Key="tagged", Body=b"x", Tagging="stage=raw&owner=data%20team")
R["tag_count"] = s3.get_object(Bucket=E, Key="tagged").get("TagCount")
R["object_tags"] = sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=E, Key="tagged")["TagSet"])
s3.put_object_tagging(Bucket=E, Key="tagged", Tagging={"TagSet": [{"Key": "stage", "Value": "clean"}]})
R["object_tags_replaced"] = [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=E, Key="tagged")["TagSet"]]
R["too_many_tags"] = code(lambda: s3.put_object_tagging(Bucket=E, Key="tagged", Tagging={"TagSet": [
    {"Key": "k%d" % i, "Value": "v"} for i in range(11)]}))
R["aws_prefix_tag"] = code(lambda: s3.put_object_tagging(Bucket=E, Key="tagged", Tagging={"TagSet": [{"Key": "aws:x", "Value": "v"}]}))
R["tags_unchanged"] = [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=E, Key="tagged")["TagSet"]]
s3.delete_object_tagging(Bucket=E, Key="tagged")
R["object_tags_deleted"] = s3.get_object_tagging(Bucket=E, Key="tagged")["TagSet"]
R["tagging_missing_key"] = code(lambda: s3.get_object_tagging(Bucket=E, Key="missing"))

# --- additional checksums ---
data = b"checksummed training data" * 1000
crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
p = s3.put_object(Bucket=E, Key="crc", Body=data, ChecksumAlgorithm="CRC32")
R["put_crc32"] = p.get("ChecksumCRC32") == crc
g = s3.get_object(Bucket=E, Key="crc", ChecksumMode="ENABLED")
R["get_crc32"] = [g.get("ChecksumCRC32") == crc, g["Body"].read() == data]
p = s3.put_object(Bucket=E, Key="sha", Body=data, ChecksumSHA256=sha)
R["put_sha256"] = s3.head_object(Bucket=E, Key="sha", ChecksumMode="ENABLED").get("ChecksumSHA256") == sha
wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
R["wrong_sha256"] = code(lambda: s3.put_object(Bucket=E, Key="sha-wrong", Body=data, ChecksumSHA256=wrong))
R["wrong_sha256_changed_nothing"] = code(lambda: s3.head_object(Bucket=E, Key="sha-wrong"))
R["malformed_checksum"] = code(lambda: s3.put_object(Bucket=E, Key="sha-wrong", Body=data, ChecksumSHA256="not-base64!"))
mpu_head = s3.head_object(Bucket=E, Key="multipart-kms", ChecksumMode="ENABLED")
R["multipart_composite"] = [mpu_head.get("ChecksumCRC32", "").endswith("-2"), mpu_head.get("ChecksumType")]
up = s3.create_multipart_upload(Bucket=E, Key="full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
part1, part2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
e1 = s3.upload_part(Bucket=E, Key="full", UploadId=up, PartNumber=1, Body=part1, ChecksumAlgorithm="CRC32")
e2 = s3.upload_part(Bucket=E, Key="full", UploadId=up, PartNumber=2, Body=part2, ChecksumAlgorithm="CRC32")
whole = base64.b64encode(zlib.crc32(part1 + part2).to_bytes(4, "big")).decode()
done = s3.complete_multipart_upload(Bucket=E, Key="full", UploadId=up, ChecksumCRC32=whole, ChecksumType="FULL_OBJECT", MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": e1["ETag"], "ChecksumCRC32": e1["ChecksumCRC32"]},
              {"PartNumber": 2, "ETag": e2["ETag"], "ChecksumCRC32": e2["ChecksumCRC32"]}]})
R["full_object_checksum"] = [done.get("ChecksumCRC32") == whole,
                             s3.head_object(Bucket=E, Key="full", ChecksumMode="ENABLED").get("ChecksumCRC32") == whole]
up = s3.create_multipart_upload(Bucket=E, Key="composite", ChecksumAlgorithm="SHA256")["UploadId"]
c1 = s3.upload_part(Bucket=E, Key="composite", UploadId=up, PartNumber=1, Body=b"z" * 100, ChecksumAlgorithm="SHA256")
R["part_checksum_missing"] = code(lambda: s3.complete_multipart_upload(Bucket=E, Key="composite", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": c1["ETag"]}]}))
R["part_checksum_wrong"] = code(lambda: s3.complete_multipart_upload(Bucket=E, Key="composite", UploadId=up, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": c1["ETag"], "ChecksumSHA256": sha}]}))
s3.abort_multipart_upload(Bucket=E, Key="composite", UploadId=up)

# --- presigned PUT and GET (SigV4 query signing) ---
v2 = s3.generate_presigned_url("put_object", Params={"Bucket": E, "Key": "presigned"}, ExpiresIn=300)
ctx = __import__("ssl").create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])
try:
    urllib.request.urlopen(urllib.request.Request(v2, data=b"x", method="PUT"), context=ctx)
    R["presigned_sigv2_refused"] = "accepted"
except urllib.error.HTTPError as e:
    R["presigned_sigv2_refused"] = e.code
    R["presigned_sigv2_error"] = e.read().decode()
try:
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/" + E + "/anything"),
                           context=ctx)
    R["anonymous"] = "accepted"
except urllib.error.HTTPError as e:
    R["anonymous"] = [e.code, e.read().decode()]
s3v4 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
url = s3v4.generate_presigned_url("put_object", Params={"Bucket": E, "Key": "presigned"}, ExpiresIn=300)
req = urllib.request.Request(url, data=b"uploaded through a presigned URL", method="PUT")
with urllib.request.urlopen(req, context=ctx) as resp:
    R["presigned_put_status"] = resp.status
get_url = s3v4.generate_presigned_url("get_object", Params={"Bucket": E, "Key": "presigned"}, ExpiresIn=300)
with urllib.request.urlopen(get_url, context=ctx) as resp:
    R["presigned_get"] = resp.read().decode()
tampered = url.replace("presigned", "presigned2")
try:
    urllib.request.urlopen(urllib.request.Request(tampered, data=b"x", method="PUT"), context=ctx)
    R["presigned_tampered"] = "accepted"
except urllib.error.HTTPError as e:
    R["presigned_tampered"] = e.code
R["presigned_tampered_changed_nothing"] = code(lambda: s3.head_object(Bucket=E, Key="presigned2"))

# --- DeleteObjects decides each key alone: refused keys are AccessDenied, the others are deleted ---
iam = boto3.client("iam")
iam.create_user(UserName="prefix-cleaner")
iam.put_user_policy(UserName="prefix-cleaner", PolicyName="mine-only", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/mine/*" % E}]}))
ak = iam.create_access_key(UserName="prefix-cleaner")["AccessKey"]
cleaner = boto3.session.Session(aws_access_key_id=ak["AccessKeyId"], aws_secret_access_key=ak["SecretAccessKey"]).client(
    "s3", config=Config(s3={"addressing_style": "path"}))
s3.put_object(Bucket=E, Key="mine/a", Body=b"a")
s3.put_object(Bucket=E, Key="theirs/b", Body=b"b")
partial = cleaner.delete_objects(Bucket=E, Delete={"Objects": [{"Key": "mine/a"}, {"Key": "theirs/b"}]})
R["per_key_deleted"] = [d["Key"] for d in partial.get("Deleted", [])]
R["per_key_errors"] = [(e["Key"], e["Code"]) for e in partial.get("Errors", [])]
R["per_key_refused_kept"] = s3.get_object(Bucket=E, Key="theirs/b")["Body"].read().decode()
R["per_key_allowed_gone"] = code(lambda: s3.head_object(Bucket=E, Key="mine/a"))

# --- bad input ---
R["malformed_delete"] = code(lambda: s3.delete_objects(Bucket=E, Delete={"Objects": []}))
print(json.dumps(R))
