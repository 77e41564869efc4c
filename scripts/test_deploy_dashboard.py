"""The dashboard upload of scripts/deploy.sh (scripts/deploy_dashboard.py) against moto's S3 and
CloudFormation: a stack with the template's two outputs, a bucket holding an older build, then
the upload of dist/ as the deploy runs it. Every file arrives with its type and cache policy,
config.json points at the stack's API, the older build's files are gone.

Usage: AWS_ENDPOINT_URL=http://127.0.0.1:PORT python scripts/test_deploy_dashboard.py
(after ./scripts/build-spa.sh; run by scripts/test.sh, stage deploy-dashboard).
"""

import json
import os
import subprocess
import sys
import uuid

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_DEFAULT_REGION", os.environ["AWS_REGION"])
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"):
    sys.exit("set AWS_ENDPOINT_URL to a local moto_server (this test never talks to AWS)")

run = uuid.uuid4().hex[:8]
bucket, stack, api = f"site-{run}", f"ba-{run}", "https://abc123.execute-api.us-east-1.amazonaws.com"
s3 = boto3.client("s3")
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key="assets/app-0ld.wasm", Body=b"old build")
template = {
    "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
    "Outputs": {"SiteBucketName": {"Value": bucket}, "ApiUrl": {"Value": api}},
}
boto3.client("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps(template))

subprocess.run([sys.executable, os.path.join(ROOT, "scripts/deploy_dashboard.py"), "--stack", stack],
               cwd=ROOT, check=True)

dist = os.path.join(ROOT, "dist")
want = sorted(os.path.relpath(os.path.join(r, n), dist).replace(os.sep, "/")
              for r, _, names in os.walk(dist) for n in names)
have = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
problems = []
if have != want:
    problems.append(f"bucket holds {have}, the build has {want}")
for key in have:
    head = s3.head_object(Bucket=bucket, Key=key)
    entry = key in ("index.html", "config.json")
    cache = "no-cache" if entry else "public, max-age=31536000, immutable"
    if head.get("CacheControl") != cache:
        problems.append(f"{key}: Cache-Control {head.get('CacheControl')!r}, want {cache!r}")
    if key.endswith(".wasm") and head["ContentType"] != "application/wasm":
        problems.append(f"{key}: Content-Type {head['ContentType']!r}")
    if key.endswith(".html") and not head["ContentType"].startswith("text/html"):
        problems.append(f"{key}: Content-Type {head['ContentType']!r}")
if not any(k.endswith(".wasm") for k in have):
    problems.append("no .wasm uploaded")
config = json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read())
if config != {"api_base": api}:
    problems.append(f"config.json is {config}, want the stack's API")
if problems:
    sys.exit("dashboard upload:\n  " + "\n  ".join(problems))
print(f"dashboard upload: {len(have)} files, types, cache policies and API base right; old build removed")
