"""Uploads the built dashboard (dist/) to the stack's bucket, pointed at the stack's API.

Usage: python scripts/deploy_dashboard.py --stack NAME     (reads the stack's outputs)
       python scripts/deploy_dashboard.py --bucket B --api-url URL
Run by scripts/deploy.sh with the SAM CLI's venv (boto3, the standard AWS environment; an
AWS_ENDPOINT_URL points it at an emulator). Content-hashed assets are cached for a year,
index.html and config.json are never cached (a new deploy shows at the next load), .wasm is
served as application/wasm (browsers refuse to stream-compile anything else). Files in the
bucket that the new build no longer has are deleted, after the upload.
"""

import argparse
import json
import mimetypes
import os
import sys

import boto3

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
# Not hashed: the entry points the browser must re-read on every load.
ENTRY_POINTS = {"index.html", "config.json"}
TYPES = {".wasm": "application/wasm", ".js": "text/javascript", ".css": "text/css",
         ".json": "application/json", ".html": "text/html; charset=utf-8",
         ".svg": "image/svg+xml", ".ico": "image/x-icon", ".png": "image/png"}


def stack_outputs(name):
    """The stack's outputs as a dict (fails with the stack's name when it has none)."""
    cfn = boto3.client("cloudformation")
    stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    for key in ("SiteBucketName", "ApiUrl"):
        if key not in outputs:
            sys.exit(f"stack {name!r} has no output {key}: deploy template.yaml first (scripts/deploy.sh)")
    return outputs


def files(dist):
    """(relative key, path) of every file of the build."""
    for root, _, names in os.walk(dist):
        for n in sorted(names):
            path = os.path.join(root, n)
            yield os.path.relpath(path, dist).replace(os.sep, "/"), path


def content_type(key):
    ext = os.path.splitext(key)[1].lower()
    return TYPES.get(ext) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def upload(dist, bucket, api_url):
    if not os.path.isfile(os.path.join(dist, "index.html")):
        sys.exit(f"{dist}/index.html is missing: build the dashboard first (./scripts/build-spa.sh)")
    s3 = boto3.client("s3")
    keys = []
    # Assets first, entry points last: a browser loading mid-upload never gets an index.html
    # that names assets not yet there.
    ordered = sorted(files(dist), key=lambda kp: kp[0] in ENTRY_POINTS)
    for key, path in ordered:
        if key == "config.json":
            body = json.dumps({"api_base": api_url.rstrip("/")}).encode()
        else:
            with open(path, "rb") as f:
                body = f.read()
        cache = NO_CACHE if key in ENTRY_POINTS else IMMUTABLE
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(key),
                      CacheControl=cache)
        keys.append(key)
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in keys]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i:i + 1000]]})
    print(f"dashboard: {len(keys)} files to s3://{bucket}/ ({len(stale)} stale removed), API {api_url}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stack", help="the stack whose SiteBucketName and ApiUrl outputs to use")
    p.add_argument("--bucket", help="the bucket (instead of --stack)")
    p.add_argument("--api-url", help="the API base URL (instead of --stack)")
    p.add_argument("--dist", default="dist", help="the built dashboard (default dist/)")
    a = p.parse_args()
    if a.stack:
        out = stack_outputs(a.stack)
        bucket, api = a.bucket or out["SiteBucketName"], a.api_url or out["ApiUrl"]
    elif a.bucket and a.api_url:
        bucket, api = a.bucket, a.api_url
    else:
        p.error("give --stack NAME, or both --bucket and --api-url")
    upload(a.dist, bucket, api)


if __name__ == "__main__":
    main()
