#!/usr/bin/env bash
# Makes the local Debian base image of the CPU build without a registry:
#   docker/base-image.sh [IMAGE]      (default local/debian:bookworm; nothing to do when it exists)
# debootstrap --variant=minbase bookworm from this machine's Debian mirror (the first bookworm URI in
# /etc/apt/sources.list.d/*.sources, /etc/apt/sources.list.d/*.list or /etc/apt/sources.list; DEBIAN_MIRROR
# overrides it), then `docker import`. The image's apt uses the same mirror. Needs root, debootstrap and an
# engine (DOCKER_HOST as docker/engine.sh prints it).
set -euo pipefail
image="${1:-local/debian:bookworm}"
suite=bookworm

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image exists"
  exit 0
fi

mirror_from_apt() {
  local f
  # deb822 files: a stanza with "URIs:" and a "Suites:" naming the suite itself
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f" | head -n 1
  done
  # one-line format
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == suite) print $i; break } }' "$f"
  done
}

mirror="${DEBIAN_MIRROR:-}"
[ -n "$mirror" ] || mirror=$(mirror_from_apt | head -n 1 || true)
mirror="${mirror:-http://deb.debian.org/debian}"
command -v debootstrap >/dev/null || { echo "debootstrap not found: apt-get install debootstrap" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "debootstrap needs root" >&2; exit 1; }

rootfs=$(mktemp -d /var/tmp/dr-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# The image's apt: the suite, its updates and security, from the same mirror host when it serves them.
cat > "$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
EOF
security="$(awk '/^URIs:.*debian-security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
if [ -n "$security" ]; then
  echo "deb $security $suite-security main" >> "$rootfs/etc/apt/sources.list"
fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar --numeric-owner -C "$rootfs" -cf - . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "$image imported" >&2
