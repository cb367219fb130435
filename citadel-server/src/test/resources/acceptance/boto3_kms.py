"""KMS with boto3: envelope encryption round trips, encryption contexts, key states, aliases,
rotation, HMAC keys, key policies across accounts, and grants with constraints."""
import base64
import json

import boto3
import botocore.exceptions

admin = boto3.session.Session()
kms = admin.client("kms")
iam = admin.client("iam")
sts = admin.client("sts")
org = admin.client("organizations")
account = sts.get_caller_identity()["Account"]
R = {}


def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] + ": " + e.response["Error"].get("Message", "")


def session(c):
    return boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                 aws_session_token=c["SessionToken"])


key = kms.create_key(Description="training data")["KeyMetadata"]
key_id = key["KeyId"]
R["key_arn"] = key["Arn"]
R["key_state"] = key["KeyState"]
ctx = {"project": "vision", "stage": "train"}
blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret bytes", EncryptionContext=ctx)["CiphertextBlob"]
R["round_trip"] = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"].decode()
R["decrypt_names_key"] = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["KeyId"] == key["Arn"]
R["other_context"] = code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"project": "speech", "stage": "train"}))
R["no_context"] = code(lambda: kms.decrypt(CiphertextBlob=blob))
tampered = bytearray(blob)
tampered[-1] ^= 1
R["tampered"] = code(lambda: kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext=ctx))
R["garbage"] = code(lambda: kms.decrypt(CiphertextBlob=b"\x00" * 40))
dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=ctx)
R["data_key_len"] = len(dk["Plaintext"])
R["data_key_round_trip"] = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == dk["Plaintext"]
R["data_key_no_plaintext"] = "Plaintext" not in kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
R["random_len"] = len(kms.generate_random(NumberOfBytes=48)["Plaintext"])
R["too_big"] = code(lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x" * 4097))

kms.create_alias(AliasName="alias/training", TargetKeyId=key_id)
R["alias_encrypt"] = code(lambda: kms.encrypt(KeyId="alias/training", Plaintext=b"x"))
R["alias_duplicate"] = code(lambda: kms.create_alias(AliasName="alias/training", TargetKeyId=key_id))
R["alias_missing"] = code(lambda: kms.encrypt(KeyId="alias/none", Plaintext=b"x"))
R["aliases"] = [a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]]

other = kms.create_key()["KeyMetadata"]["KeyId"]
reencrypted = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=other)["CiphertextBlob"]
R["re_encrypt"] = kms.decrypt(CiphertextBlob=reencrypted)["Plaintext"].decode()
R["wrong_key_id"] = code(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=other))

kms.rotate_key_on_demand(KeyId=key_id)
new_blob = kms.encrypt(KeyId=key_id, Plaintext=b"after rotation")["CiphertextBlob"]
R["old_blob_after_rotation"] = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"].decode()
R["new_blob_after_rotation"] = kms.decrypt(CiphertextBlob=new_blob)["Plaintext"].decode()
kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
R["rotation_status"] = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]

kms.disable_key(KeyId=other)
R["disabled"] = code(lambda: kms.encrypt(KeyId=other, Plaintext=b"x"))
kms.enable_key(KeyId=other)
deletion = kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)
R["pending_state"] = deletion["KeyState"]
R["pending_use"] = code(lambda: kms.encrypt(KeyId=other, Plaintext=b"x"))
R["short_window"] = code(lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=6))
kms.cancel_key_deletion(KeyId=other)
R["after_cancel"] = kms.describe_key(KeyId=other)["KeyMetadata"]["KeyState"]

mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
mac = kms.generate_mac(KeyId=mac_key, Message=b"model v1", MacAlgorithm="HMAC_SHA_256")["Mac"]
R["mac_valid"] = kms.verify_mac(KeyId=mac_key, Message=b"model v1", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]
R["mac_invalid"] = code(lambda: kms.verify_mac(KeyId=mac_key, Message=b"model v2", Mac=mac, MacAlgorithm="HMAC_SHA_256"))
R["mac_key_encrypt"] = code(lambda: kms.encrypt(KeyId=mac_key, Plaintext=b"x"))

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
R["ecc_algorithms"] = ecc["SigningAlgorithms"]
signature = kms.sign(KeyId=ecc["KeyId"], Message=b"model digest", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
R["ecc_verify"] = kms.verify(KeyId=ecc["KeyId"], Message=b"model digest", Signature=signature,
                             SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
R["ecc_verify_other_message"] = code(lambda: kms.verify(KeyId=ecc["KeyId"], Message=b"other", Signature=signature,
                                                        SigningAlgorithm="ECDSA_SHA_256"))
public = serialization.load_der_public_key(kms.get_public_key(KeyId=ecc["KeyId"])["PublicKey"])
public.verify(signature, b"model digest", ec.ECDSA(hashes.SHA256()))
R["ecc_verified_outside_kms"] = True
rsa = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
rsa_public = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa)["PublicKey"])
pss = kms.sign(KeyId=rsa, Message=b"weights", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
rsa_public.verify(pss, b"weights", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
digest = hashes.Hash(hashes.SHA256())
digest.update(b"weights")
pkcs1 = kms.sign(KeyId=rsa, Message=digest.finalize(), MessageType="DIGEST", SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["Signature"]
rsa_public.verify(pkcs1, b"weights", padding.PKCS1v15(), hashes.SHA256())
R["rsa_verified_outside_kms"] = True
R["sign_with_symmetric_key"] = code(lambda: kms.sign(KeyId=key_id, Message=b"x", SigningAlgorithm="ECDSA_SHA_256"))
R["ecc_wrong_algorithm"] = code(lambda: kms.sign(KeyId=ecc["KeyId"], Message=b"x", SigningAlgorithm="RSASSA_PSS_SHA_256"))
pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256", EncryptionContext=ctx)
R["data_key_pair"] = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == pair["PrivateKeyPlaintext"]
serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)

R["default_policy"] = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])["Statement"][0]["Principal"]
R["lockout"] = code(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + account + ":root"}, "Action": "kms:Decrypt", "Resource": "*"}]})))
R["bad_policy"] = code(lambda: kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy='{"Version":"2012-10-17"}'))

# --- another account: denied until the key policy and its own IAM policy both allow ---
status = org.create_account(AccountName="kms-member", Email="kms-member@example.com")["CreateAccountStatus"]
member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
m = session(sts.assume_role(RoleArn="arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole",
                            RoleSessionName="kms")["Credentials"]).client("kms")
R["cross_account_before"] = code(lambda: m.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
policy["Statement"].append({"Sid": "member decrypts", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + member + ":root"},
                            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"})
kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
R["cross_account_after"] = code(lambda: m.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
member_iam = session(sts.assume_role(RoleArn="arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole",
                                     RoleSessionName="iam")["Credentials"]).client("iam")
member_iam.create_user(UserName="no-policies")
bare = member_iam.create_access_key(UserName="no-policies")["AccessKey"]
bare_kms = boto3.session.Session(aws_access_key_id=bare["AccessKeyId"], aws_secret_access_key=bare["SecretAccessKey"]).client("kms")
R["cross_account_without_own_iam"] = code(lambda: bare_kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
R["cross_account_encrypt"] = code(lambda: m.encrypt(KeyId=key["Arn"], Plaintext=b"x"))

# --- a grant lets a role with no policies decrypt, only under its constraint ---
role = iam.create_role(RoleName="decryptor", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::" + account + ":root"}, "Action": "sts:AssumeRole"}]}))["Role"]
d = session(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="decrypt")["Credentials"]).client("kms")
R["role_before_grant"] = code(lambda: d.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
grant = kms.create_grant(KeyId=key_id, GranteePrincipal=role["Arn"], Operations=["Decrypt"],
                         Constraints={"EncryptionContextEquals": ctx})
R["role_with_grant"] = code(lambda: d.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
other_ctx_blob = kms.encrypt(KeyId=key_id, Plaintext=b"y", EncryptionContext={"project": "speech"})["CiphertextBlob"]
R["role_outside_constraint"] = code(lambda: d.decrypt(CiphertextBlob=other_ctx_blob, EncryptionContext={"project": "speech"}))
R["role_other_operation"] = code(lambda: d.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=ctx))
R["grants"] = [g["GrantId"] for g in kms.list_grants(KeyId=key_id)["Grants"]] == [grant["GrantId"]]
kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
R["role_after_revoke"] = code(lambda: d.decrypt(CiphertextBlob=blob, EncryptionContext=ctx))
print(json.dumps(R, default=str))
