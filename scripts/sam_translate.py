#!/usr/bin/env python3
"""Translates template.yaml (SAM) into plain CloudFormation JSON, offline, for cfn-lint and the
template tests: `python scripts/sam_translate.py template.yaml > out.json`.

Local CodeUri values become a dummy S3 URI (the translator needs one; nothing is uploaded)."""
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies(ManagedPolicyLoader):
    """Managed policy ARNs without calling IAM."""

    def __init__(self):
        pass

    def load(self):
        return {}


def main(path):
    # The translator reads the region for pseudo parameters; any will do offline.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://offline-bucket/code.zip"
    try:
        out = transform(template, {}, OfflinePolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"SAM: {cause.message}", file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
