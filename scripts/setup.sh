#!/usr/bin/env bash
# Installs what `make serve` and `make test` need, skipping whatever is already there:
#   the wasm32 target, clippy and rustfmt, wasm-bindgen-cli at the exact version in Cargo.lock, trunk 0.21.14,
#   Debian's binaryen (wasm-opt), with `--browser` Debian's chromium + chromium-driver, and with
#   `--vulkan` Debian's mesa-vulkan-drivers (lavapipe, Vulkan on the CPU, for tests/vulkan.rs).
# Nothing is downloaded at build time afterwards: trunk finds these tools on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
trunk_version=0.21.14   # trunk 0.22 needs rustc >= 1.96.1

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    echo "setup: adding the $component component (make lint)"
    rustup component add "$component"
  fi
done

if [[ $(wasm-bindgen --version 2>/dev/null | awk '{print $2}') != "$wb_version" ]]; then
  echo "setup: installing wasm-bindgen-cli $wb_version (about 4 minutes)"
  # Not --locked: the registry lacks one of its locked dependency versions.
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

if [[ $(trunk --version 2>/dev/null | awk '{print $2}') != "$trunk_version" ]]; then
  echo "setup: installing trunk $trunk_version (a few minutes)"
  # --locked is required: unlocked dependency versions need a newer rustc.
  # trunk's own release profile (fat LTO, one codegen unit) made this a 15-minute build on 2 cores;
  # trunk only orchestrates cargo and wasm-bindgen, so it is built for build speed instead.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install trunk --version "$trunk_version" --locked --force
fi

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} == 0 ]] && return 0
  echo "setup: installing ${missing[*]} with apt"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

apt_install binaryen
if [[ ${1:-} == --browser ]]; then
  apt_install chromium chromium-driver
fi
if [[ ${1:-} == --vulkan ]]; then
  apt_install mesa-vulkan-drivers libvulkan1
fi
echo "setup: tools ready (wasm-bindgen $wb_version, trunk $trunk_version)"
