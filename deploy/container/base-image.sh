#!/bin/sh
# The local base image for make image: a Debian bookworm root (Python 3.11, tini, CA certificates) made with
# debootstrap and imported into podman, for machines that reach Debian's mirror but no image registry.
# Elsewhere the Containerfiles take an official image instead (BASE_IMAGE=python:3.11-slim and so on).
#   deploy/container/base-image.sh [TAG] [WORK_DIR]       e.g. localhost/dealgate-base:bookworm var/image
set -eu
tag=${1:-localhost/dealgate-base:bookworm}
work=${2:-var/image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
podman=${PODMAN:-podman}

if $podman image exists "$tag"; then
  echo "base image $tag: already there"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
rootfs=$work/rootfs
rm -rf "$rootfs"
mkdir -p "$work"
started=$(date +%s)
echo "debootstrap: Debian bookworm (minbase + python3, python3-venv, tini, ca-certificates) from $mirror into $rootfs ..."
debootstrap --variant=minbase --include=python3,python3-venv,tini,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# What an image does not need: package lists, caches, documentation. The man page directories stay (empty):
# update-alternatives links into them when a later layer installs, e.g., Java. Later installs skip docs too.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/log/*.log
find "$rootfs/usr/share/man" "$rootfs/usr/share/doc" "$rootfs/usr/share/info" ! -type d ! -name copyright -delete
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/01-dealgate-nodoc" <<'CONF'
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
CONF
echo "importing $rootfs as $tag ..."
tar -C "$rootfs" -c . | $podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
rm -rf "$rootfs"
echo "base image $tag: made in $(( $(date +%s) - started ))s"
