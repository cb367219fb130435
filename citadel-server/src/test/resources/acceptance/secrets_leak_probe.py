"""Makes the secrets the audit issue names exist and pass through the server: the admin's secret key
(signing every call), a session token and its secret (GetSessionToken, then calls with them), a
KMS plaintext (Encrypt, Decrypt), a data key (GenerateDataKey) and a refused call carrying the
plaintext. Prints them, so the test can search the data directory for every form of each."""
import base64
import json
import os

import boto3
import botocore.exceptions

R = {}
session = boto3.Session()
R["admin_secret"] = session.get_credentials().secret_key
sts = boto3.client("sts")
creds = sts.get_session_token()["Credentials"]
R["session_token"] = creds["SessionToken"]
R["session_secret"] = creds["SecretAccessKey"]
temp = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                     aws_session_token=creds["SessionToken"])
temp.client("sts").get_caller_identity()
kms = boto3.client("kms")
key = kms.create_key(Description="leak probe")["KeyMetadata"]["KeyId"]
plaintext = ("KMS-PLAINTEXT-" + os.urandom(12).hex()).encode()
R["kms_plaintext"] = plaintext.decode()
blob = kms.encrypt(KeyId=key, Plaintext=plaintext)["CiphertextBlob"]
assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
temp.client("kms").encrypt(KeyId=key, Plaintext=plaintext)
data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
R["data_key_b64"] = base64.b64encode(data_key).decode()
try:
    kms.encrypt(KeyId="alias/does-not-exist", Plaintext=plaintext)
except botocore.exceptions.ClientError:
    pass
print(json.dumps(R))
