#!/usr/bin/env bash
# Builds a Postgres 17 image from Debian packages, offline from any image registry, and prints its name.
# It behaves like the official `postgres:17` image as testcontainers uses it (see postgres-entrypoint.sh).
# The tag carries a hash of this script and the entrypoint, so an edit rebuilds and a rerun reuses.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
hash="$(cat "$here/postgres-image.sh" "$here/postgres-entrypoint.sh" | sha256sum | cut -c1-12)"
image="entity-lambda/postgres:17-offline-$hash"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "postgres-image: installing debootstrap with apt" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

root="$(mktemp -d "${TMPDIR:-/tmp}/pg-rootfs.XXXXXX")"
trap 'rm -rf "$root"' EXIT
echo "postgres-image: debootstrap trixie + postgresql-17 into $root" >&2
debootstrap --variant=minbase --include=postgresql-17 trixie "$root" >"$root.log" 2>&1 || {
  tail -30 "$root.log" >&2
  exit 1
}
rm -f "$root.log"
# The package's postinst created a default cluster; the entrypoint makes its own in PGDATA.
rm -rf "$root"/var/lib/postgresql/17 "$root"/etc/postgresql/17 "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/lib/apt/lists/*
install -m 0755 "$here/postgres-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"

echo "postgres-image: importing as $image" >&2
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV PGDATA=/var/lib/postgresql/data' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'EXPOSE 5432' \
  -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  -c 'CMD ["postgres"]' \
  - "$image" >/dev/null
echo "$image"
