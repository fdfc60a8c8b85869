#!/usr/bin/env bash
# Fetches axe-core (the accessibility checker the e2e test runs in the page) from the npm
# registry into target/axe/axe.min.js, checked against its pinned SHA-256. curl, not npm: a new
# machine has curl, and the test needs one file. Skips the download when the file is there.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.11.4
sha256=97175f79b2bd57adf1d4a55837f574093883bd9eb8096ea66abfafe2f2bdbdb9
out=target/axe
[[ -f $out/axe.min.js && $(cat "$out/version" 2>/dev/null) == "$version" ]] && exit 0

mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "axe-setup: fetching axe-core $version from registry.npmjs.org"
curl -fsSL "https://registry.npmjs.org/axe-core/-/axe-core-$version.tgz" -o "$tmp/axe.tgz"
if ! echo "$sha256  $tmp/axe.tgz" | sha256sum -c --quiet; then
  echo "axe-setup: axe-core-$version.tgz does not match its pinned SHA-256; not using it" >&2
  exit 1
fi
tar xzf "$tmp/axe.tgz" -C "$tmp" package/axe.min.js
mv "$tmp/package/axe.min.js" "$out/axe.min.js"
echo "$version" > "$out/version"
