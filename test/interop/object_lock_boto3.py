"""Drives Object Lock on a Holdfast server with boto3 and reports what it observed as one JSON object.

Run by object-lock-boto3.test.ts with the Debian /usr/bin/python3. It asserts nothing itself: the
TypeScript test judges the observations. Input (stdin, JSON): endpoint, bucket, plain_bucket,
retain_until and shorter_until (ISO-8601, computed by the caller from its clock), body_hex.
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment.
"""

import hashlib
import json
import sys
from datetime import datetime

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# The operations boto3 >= 1.36 sends with a CRC32 instead of Content-MD5 (requestChecksumRequired).
REQUIRED_CHECKSUM_OPERATIONS = {"PutObjectLockConfiguration", "PutObjectRetention", "PutObjectLegalHold", "DeleteObjects"}


def failure(call):
    """Runs call() and returns [error code, HTTP status], or None if it succeeded."""
    try:
        call()
    except ClientError as error:
        return [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]
    return None


def iso(value):
    return None if value is None else value.isoformat()


def client(endpoint, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # No silent retries: a flaky answer must fail the test.
            retries={"mode": "standard", "max_attempts": 1},
            **config,
        ),
    )


def main():
    spec = json.load(sys.stdin)
    bucket = spec["bucket"]
    until = datetime.fromisoformat(spec["retain_until"].replace("Z", "+00:00"))
    shorter = datetime.fromisoformat(spec["shorter_until"].replace("Z", "+00:00"))
    body = bytes.fromhex(spec["body_hex"])
    s3 = client(spec["endpoint"])
    integrity_headers = {}

    def record_integrity(request, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]
        if operation in REQUIRED_CHECKSUM_OPERATIONS:
            names = sorted(n.lower() for n in request.headers.keys() if n.lower() == "content-md5" or n.lower().startswith("x-amz-checksum-"))
            integrity_headers.setdefault(operation, names)

    s3.meta.events.register("before-send.s3", record_integrity)
    report = {"boto3": boto3.__version__}

    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    report["versioning"] = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    report["suspend"] = failure(lambda: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}))
    config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    report["lock_configuration"] = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    report["both_periods"] = failure(
        lambda: s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
        )
    )
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})

    compliance = s3.put_object(Bucket=bucket, Key="compliance", Body=body, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    governance = s3.put_object(
        Bucket=bucket, Key="governance", Body=body, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON"
    )
    c_id, g_id = compliance["VersionId"], governance["VersionId"]
    report["version_ids"] = [c_id, g_id]
    heads = {}
    for key, version in (("compliance", c_id), ("governance", g_id)):
        head = s3.head_object(Bucket=bucket, Key=key, VersionId=version)
        heads[key] = [head.get("ObjectLockMode"), iso(head.get("ObjectLockRetainUntilDate")), head.get("ObjectLockLegalHoldStatus")]
    report["heads"] = heads
    retention = s3.get_object_retention(Bucket=bucket, Key="compliance", VersionId=c_id)["Retention"]
    report["compliance_retention"] = [retention["Mode"], iso(retention["RetainUntilDate"])]

    def set_retention(key, version, mode, date, **extra):
        return lambda: s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={"Mode": mode, "RetainUntilDate": date}, **extra)

    report["refused"] = {
        "compliance_shorten_bypass": failure(set_retention("compliance", c_id, "COMPLIANCE", shorter, BypassGovernanceRetention=True)),
        "compliance_to_governance_bypass": failure(set_retention("compliance", c_id, "GOVERNANCE", until, BypassGovernanceRetention=True)),
        "governance_shorten": failure(set_retention("governance", g_id, "GOVERNANCE", shorter)),
        "governance_remove": failure(lambda: s3.put_object_retention(Bucket=bucket, Key="governance", VersionId=g_id, Retention={})),
        "delete_compliance": failure(lambda: s3.delete_object(Bucket=bucket, Key="compliance", VersionId=c_id)),
        "delete_compliance_bypass": failure(lambda: s3.delete_object(Bucket=bucket, Key="compliance", VersionId=c_id, BypassGovernanceRetention=True)),
        "delete_held_governance_bypass": failure(lambda: s3.delete_object(Bucket=bucket, Key="governance", VersionId=g_id, BypassGovernanceRetention=True)),
    }
    batch = s3.delete_objects(
        Bucket=bucket,
        BypassGovernanceRetention=True,
        Delete={"Objects": [{"Key": "compliance", "VersionId": c_id}, {"Key": "governance", "VersionId": g_id}]},
    )
    report["delete_objects"] = {
        "status": batch["ResponseMetadata"]["HTTPStatusCode"],
        "deleted": [[d["Key"], d.get("VersionId")] for d in batch.get("Deleted", [])],
        "errors": sorted([e["Key"], e.get("VersionId"), e["Code"]] for e in batch.get("Errors", [])),
    }
    marker = s3.delete_object(Bucket=bucket, Key="compliance")
    report["delete_marker"] = [marker["ResponseMetadata"]["HTTPStatusCode"], marker.get("DeleteMarker"), marker.get("VersionId")]

    # The legal hold comes off without any bypass; then bypass lifts the governance retention.
    s3.put_object_legal_hold(Bucket=bucket, Key="governance", VersionId=g_id, LegalHold={"Status": "OFF"})
    report["legal_hold_after_off"] = s3.get_object_legal_hold(Bucket=bucket, Key="governance", VersionId=g_id)["LegalHold"]["Status"]
    set_retention("governance", g_id, "GOVERNANCE", shorter, BypassGovernanceRetention=True)()
    shortened = s3.get_object_retention(Bucket=bucket, Key="governance", VersionId=g_id)["Retention"]
    report["governance_shortened"] = [shortened["Mode"], iso(shortened["RetainUntilDate"])]
    report["delete_governance_bypass"] = failure(lambda: s3.delete_object(Bucket=bucket, Key="governance", VersionId=g_id, BypassGovernanceRetention=True))

    try:
        kept = s3.get_object(Bucket=bucket, Key="compliance", VersionId=c_id)
        report["compliance_after"] = {"sha256": hashlib.sha256(kept["Body"].read()).hexdigest(), "etag": kept["ETag"], "put_etag": compliance["ETag"]}
    except ClientError as error:
        # Reported, not raised: a destroyed compliance version is the finding, not a script crash.
        report["compliance_after"] = {"error": [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]}

    # Without any integrity header a locked write is refused. The headers are stripped before
    # signing, so this works whether the installed botocore adds Content-MD5 (< 1.36) or a CRC32.
    bare = client(spec["endpoint"])

    def strip_integrity(request, **_):
        for name in list(request.headers.keys()):
            if name.lower() == "content-md5" or name.lower().startswith("x-amz-checksum-") or name.lower() == "x-amz-sdk-checksum-algorithm":
                del request.headers[name]

    bare.meta.events.register("before-sign.s3.PutObject", strip_integrity)
    bare_sent = []
    bare.meta.events.register("before-send.s3.PutObject", lambda request, **_: bare_sent.append(sorted(n.lower() for n in request.headers.keys())))
    report["bare_locked_put"] = failure(
        lambda: bare.put_object(Bucket=bucket, Key="bare", Body=body, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    )

    report["bare_headers"] = bare_sent
    plain = spec["plain_bucket"]
    s3.create_bucket(Bucket=plain)
    s3.put_object(Bucket=plain, Key="a", Body=b"a")
    report["plain"] = {
        "locked_put": failure(lambda: s3.put_object(Bucket=plain, Key="b", Body=b"b", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)),
        "get_retention": failure(lambda: s3.get_object_retention(Bucket=plain, Key="a")),
        "get_lock_configuration": failure(lambda: s3.get_object_lock_configuration(Bucket=plain)),
    }
    swept = s3.delete_objects(Bucket=plain, BypassGovernanceRetention=True, Delete={"Objects": [{"Key": "a"}]})
    report["plain"]["bypass_delete_objects"] = {
        "deleted": [d["Key"] for d in swept.get("Deleted", [])],
        "errors": swept.get("Errors", []),
    }
    report["integrity_headers"] = integrity_headers

    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
