"""Drives a Holdfast server with boto3 and reports what it observed as one JSON object on stdout.

Run by boto3.test.ts with the Debian /usr/bin/python3. It asserts nothing itself: the TypeScript
test compares the observations with what it wrote. Input (stdin, JSON): endpoint, bucket,
files [{key, path}], large {key, path}, download_dir. Credentials come from AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY in the environment, never from the input.
"""

import hashlib
import json
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def error_of(call):
    """Runs call() and returns [error code, HTTP status], or None if it succeeded."""
    try:
        call()
    except ClientError as error:
        return [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]
    return None


def main():
    spec = json.load(sys.stdin)
    bucket = spec["bucket"]
    s3 = boto3.client(
        "s3",
        endpoint_url=spec["endpoint"],
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            # No silent retries: a flaky answer must fail the test.
            retries={"mode": "standard", "max_attempts": 1},
        ),
    )
    report = {"boto3": boto3.__version__}

    s3.create_bucket(Bucket=bucket)
    report["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # put_object / get_object of every small file, byte for byte.
    report["put"] = {}
    report["get"] = {}
    for item in spec["files"]:
        with open(item["path"], "rb") as handle:
            body = handle.read()
        put = s3.put_object(Bucket=bucket, Key=item["key"], Body=body, Metadata={"client": "boto3"})
        report["put"][item["key"]] = put["ETag"]
        got = s3.get_object(Bucket=bucket, Key=item["key"])
        data = got["Body"].read()
        report["get"][item["key"]] = {
            "sha256": sha256_bytes(data),
            "length": got["ContentLength"],
            "etag": got["ETag"],
            "metadata": got["Metadata"],
        }

    # upload_file of the large file with 8 MiB parts, then head and download_file.
    transfer = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)
    large = spec["large"]
    s3.upload_file(large["path"], bucket, large["key"], Config=transfer)
    head = s3.head_object(Bucket=bucket, Key=large["key"])
    downloaded = os.path.join(spec["download_dir"], "large.bin")
    s3.download_file(bucket, large["key"], downloaded, Config=transfer)
    report["multipart"] = {
        "etag": head["ETag"],
        "length": head["ContentLength"],
        "download_sha256": sha256_file(downloaded),
    }

    # list_objects_v2 through the paginator, small pages; boto3 adds encoding-type=url itself.
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
    report["list_pages"] = [[o["Key"] for o in page.get("Contents", [])] for page in pages]
    grouped = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    report["delimited"] = {
        "keys": [o["Key"] for o in grouped.get("Contents", [])],
        "prefixes": [p["Prefix"] for p in grouped.get("CommonPrefixes", [])],
    }

    # delete_objects (a required-checksum operation: boto3 sends Content-MD5 or a CRC32).
    keys = [item["key"] for item in spec["files"]] + [large["key"]]
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    report["delete_objects"] = {
        "deleted": sorted(d["Key"] for d in deleted.get("Deleted", [])),
        "errors": deleted.get("Errors", []),
    }
    report["after_delete"] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    report["errors"] = {
        "get_missing_key": error_of(lambda: s3.get_object(Bucket=bucket, Key=keys[0])),
        "missing_bucket": error_of(lambda: s3.list_objects_v2(Bucket=bucket + "-missing")),
    }
    s3.delete_bucket(Bucket=bucket)
    report["buckets_after"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]

    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
