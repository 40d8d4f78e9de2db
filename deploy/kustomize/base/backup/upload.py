"""Copy the newest backup off the cluster: upload dump, balances and checksums to object storage.

Runs in the app image (boto3 is there) after backup.sh. Env: BACKUP_S3_BUCKET (empty: the copy stays on
the volume only, which is acceptable for dev and said loudly), BACKUP_S3_PREFIX, S3_ENDPOINT_URL,
S3_REGION, S3_ACCESS_KEY_ID_FILE / S3_SECRET_ACCESS_KEY_FILE (absent with pod identity), BACKUP_DIR.
Retention in the bucket is the bucket's lifecycle rule (deploy/README.md), not this script's job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def secret(name: str) -> str | None:
    path = os.environ.get(f"{name}_FILE")
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name) or None


def main() -> int:
    bucket = os.environ.get("BACKUP_S3_BUCKET", "")
    directory = Path(os.environ.get("BACKUP_DIR", "/backups"))
    dumps = sorted(directory.glob("financetracker-*.dump"), key=lambda p: p.stat().st_mtime)
    if not dumps:
        print(f"upload: no dump in {directory}", file=sys.stderr)
        return 1
    if not bucket:
        print(f"upload: BACKUP_S3_BUCKET is empty: {dumps[-1].name} stays on the volume only (not off the cluster)")
        return 0
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("S3_REGION") or None,
        aws_access_key_id=secret("S3_ACCESS_KEY_ID"),
        aws_secret_access_key=secret("S3_SECRET_ACCESS_KEY"),
    )
    prefix = os.environ.get("BACKUP_S3_PREFIX", "postgres/")
    stem = dumps[-1].with_suffix("")
    for path in (stem.with_suffix(".dump"), stem.with_suffix(".balances"), stem.with_suffix(".sha256")):
        key = prefix + path.name
        client.upload_file(str(path), bucket, key)
        size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if size != path.stat().st_size:
            print(f"upload: s3://{bucket}/{key} has {size} bytes, {path} {path.stat().st_size}", file=sys.stderr)
            return 1
        print(f"upload: s3://{bucket}/{key} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
