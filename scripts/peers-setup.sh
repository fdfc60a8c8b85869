#!/usr/bin/env bash
# Installs the peer frameworks that `examples/bench_peers.rs` compares MNIST Lab with, at exact
# versions, into target/peers/node_modules (git-ignored), from the npm registry only: the bench
# page imports them from there, so the measurement needs no CDN. Skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  "@jax-js/jax@0.1.25"
  "@tensorflow/tfjs@4.22.0"
  "@tensorflow/tfjs-backend-webgpu@4.22.0"
  "@tensorflow/tfjs-backend-wasm@4.22.0"
)

# Exact versions: a package counts as installed only when its package.json has that version.
missing=()
for spec in "${packages[@]}"; do
  name=${spec%@*}
  version=${spec##*@}
  manifest="target/peers/node_modules/$name/package.json"
  have=$(node -p "require('./$manifest').version" 2>/dev/null || true)
  [[ $have == "$version" ]] || missing+=("$spec")
done

if [[ ${#missing[@]} == 0 ]]; then
  echo "peers-setup: ${packages[*]} already in target/peers/node_modules"
  exit 0
fi

command -v npm >/dev/null || { echo "peers-setup: npm is needed (apt-get install npm)" >&2; exit 1; }
echo "peers-setup: installing ${packages[*]} into target/peers"
mkdir -p target/peers
# All of them in one install (not only the missing ones): npm prunes what a --no-save install
# does not name, so a partial install would remove the others.
npm install --prefix target/peers --no-save --no-audit --no-fund --no-package-lock \
  --ignore-scripts "${packages[@]}"
