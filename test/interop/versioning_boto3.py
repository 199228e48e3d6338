"""Drives S3 versioning on a Holdfast server with boto3 and reports what it observed as JSON on stdout.

Run by versioning-boto3.test.ts with the Debian /usr/bin/python3. It asserts nothing itself: the
TypeScript test judges the observations. Input (stdin, JSON): endpoint, bucket, key (the key that
gets three versions and a delete marker), bodies (three strings, written in order), others (keys
written once each). Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the
environment, never from the input.
"""

import hashlib
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def error_of(call):
    """Runs call() and returns [error code, HTTP status, x-amz-delete-marker header], or None."""
    try:
        call()
    except ClientError as error:
        metadata = error.response["ResponseMetadata"]
        return [
            error.response["Error"]["Code"],
            metadata["HTTPStatusCode"],
            metadata.get("HTTPHeaders", {}).get("x-amz-delete-marker"),
        ]
    return None


def listing_pages(s3, **kwargs):
    """list_object_versions through boto3's paginator (key-marker + version-id-marker), page by page."""
    pages = []
    for page in s3.get_paginator("list_object_versions").paginate(**kwargs):
        pages.append({
            "encoding_type": page.get("EncodingType"),
            "versions": [[v["Key"], v["VersionId"], v["IsLatest"]] for v in page.get("Versions", [])],
            "delete_markers": [[m["Key"], m["VersionId"], m["IsLatest"]] for m in page.get("DeleteMarkers", [])],
            "prefixes": [p["Prefix"] for p in page.get("CommonPrefixes", [])],
        })
    return pages


def deleted_entries(response):
    return {
        "deleted": [
            {
                "key": d["Key"],
                "version_id": d.get("VersionId"),
                "delete_marker": d.get("DeleteMarker"),
                "delete_marker_version_id": d.get("DeleteMarkerVersionId"),
            }
            for d in response.get("Deleted", [])
        ],
        "errors": response.get("Errors", []),
    }


def main():
    spec = json.load(sys.stdin)
    bucket = spec["bucket"]
    key = spec["key"]
    s3 = boto3.client(
        "s3",
        endpoint_url=spec["endpoint"],
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # No silent retries: a flaky answer must fail the test. Every call is bounded.
            retries={"mode": "standard", "max_attempts": 1},
            connect_timeout=5,
            read_timeout=30,
        ),
    )
    report = {"boto3": boto3.__version__}

    s3.create_bucket(Bucket=bucket)
    report["initial_status"] = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    report["status"] = s3.get_bucket_versioning(Bucket=bucket).get("Status")

    report["put_version_ids"] = [
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8")).get("VersionId") for body in spec["bodies"]
    ]
    report["other_version_ids"] = {
        other: s3.put_object(Bucket=bucket, Key=other, Body=other.encode("utf-8")).get("VersionId")
        for other in spec["others"]
    }

    deletion = s3.delete_object(Bucket=bucket, Key=key)
    marker = deletion.get("VersionId")
    report["delete"] = {
        "status": deletion["ResponseMetadata"]["HTTPStatusCode"],
        "delete_marker": deletion.get("DeleteMarker"),
        "version_id": marker,
    }
    report["get_after_delete"] = error_of(lambda: s3.get_object(Bucket=bucket, Key=key))
    report["head_after_delete"] = error_of(lambda: s3.head_object(Bucket=bucket, Key=key))
    report["get_marker_version"] = error_of(lambda: s3.get_object(Bucket=bucket, Key=key, VersionId=marker or "null"))

    report["get_versions"] = []
    for version_id in report["put_version_ids"]:
        got = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
        report["get_versions"].append({
            "sha256": sha256_bytes(got["Body"].read()),
            "version_id": got.get("VersionId"),
        })

    # boto3 adds encoding-type=url to ListObjectVersions itself and decodes the keys when the reply
    # echoes EncodingType.
    report["pages_before"] = listing_pages(s3, Bucket=bucket, PaginationConfig={"PageSize": 2})

    batch = s3.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [
                {"Key": key, "VersionId": marker or "null"},
                {"Key": key, "VersionId": report["put_version_ids"][0]},
                {"Key": spec["others"][-1]},
            ]
        },
    )
    report["delete_objects"] = deleted_entries(batch)

    current = s3.get_object(Bucket=bucket, Key=key)
    report["get_after_undelete"] = {"sha256": sha256_bytes(current["Body"].read()), "version_id": current.get("VersionId")}
    report["pages_after"] = listing_pages(s3, Bucket=bucket, PaginationConfig={"PageSize": 3})
    report["delimited_pages"] = listing_pages(
        s3, Bucket=bucket, Prefix="docs/", Delimiter="/", PaginationConfig={"PageSize": 1}
    )

    # Clean-up as backup tools do it: every version and marker in one delete_objects, then the bucket.
    everything = [
        {"Key": entry[0], "VersionId": entry[1]}
        for page in listing_pages(s3, Bucket=bucket)
        for entry in page["versions"] + page["delete_markers"]
    ]
    cleanup = s3.delete_objects(Bucket=bucket, Delete={"Objects": everything})
    report["cleanup"] = {"count": len(everything), "errors": cleanup.get("Errors", [])}
    report["delete_bucket"] = error_of(lambda: s3.delete_bucket(Bucket=bucket))
    report["buckets_after"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]

    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
