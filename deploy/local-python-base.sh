#!/usr/bin/env bash
# Vendored from the workplace's shared/tools so the image smoke test depends on nothing outside this repo.
# Builds a local stand-in for the python:3.11-slim-bookworm base image on a host that reaches Debian's
# package mirror but no image registry, and sets podman up for this host (runc runtime, lowered ulimits).
# Afterwards `podman build --isolation=chroot --pull=never .` builds an unchanged Dockerfile that starts
# FROM python:3.11-slim-bookworm. Idempotent; about a minute the first time.
# Usage: local-python-base.sh [IMAGE_NAME]
set -euo pipefail
image=${1:-docker.io/library/python:3.11-slim-bookworm}

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap >/dev/null
fi

# This host cannot use crun's cgroup handling nor raise rlimits: run containers with runc and low ulimits.
conf=/etc/containers/containers.conf
if ! grep -q 'runtime = "runc"' "$conf" 2>/dev/null; then
  mkdir -p /etc/containers
  cat >>"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
fi

if podman image exists "$image"; then
  echo "$image is present"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log"; exit 1; }
root=$work/rootfs
# Match the official image: python and pip on /usr/local/bin, pip allowed outside a venv.
ln -sf /usr/bin/python3 "$root/usr/local/bin/python3"
ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
ln -sf /usr/bin/pip3 "$root/usr/local/bin/pip"
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
# Trust the same certificate authorities as this host, so package downloads inside builds work.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' - "$image" >/dev/null
echo "built $image"
