#!/usr/bin/env bash
# The GPU check (#34): our kernels against burn's operations, and the MLP and GAN benchmark
# (examples/devtools), on a real GPU through Vulkan — the kernels were only ever run on emulators
# (SwiftShader, lavapipe).
#
#   scripts/gpu-check.sh pack   here: builds what `make test` builds (warm: seconds), packs the
#                               stripped binaries, MNIST, 10 000 Fashion-MNIST images and the
#                               Vulkan loader into target/gpu-check/ (~47 MB; the device copy
#                               takes 64 MiB)
#   scripts/gpu-check.sh run    on the GPU machine, from the repository root, with
#                               target/gpu-check carried: no build, no network. Prints the adapter,
#                               writes logs and JSON under $OUT (or target/gpu-check/out), and
#                               exits non-zero when a kernel disagrees with burn's operations.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/gpu-check

pack() {
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/mnist-lab/target}
  cargo build --release --features vulkan --example devtools
  local tests
  tests=$(cargo test --release --features vulkan --test vulkan --no-run --message-format=json |
    python3 -c 'import json, sys
runs = [m["executable"] for m in map(json.loads, sys.stdin)
        if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "vulkan"]
print(runs[-1])')
  rm -rf "$dir" && mkdir -p "$dir/static/data/mnist" "$dir/lib"
  strip -o "$dir/devtools" "$CARGO_TARGET_DIR/release/examples/devtools"
  strip -o "$dir/kernel-tests" "$tests"
  gzip -9 "$dir/devtools" "$dir/kernel-tests"
  cp static/data/mnist/*-ubyte.gz "$dir/static/data/mnist/"
  # The GAN benchmark's Fashion-MNIST, cut to its first 10 000 images per split (a step's time
  # does not depend on how many images the set holds; the whole set would not fit the copy).
  mkdir -p "$dir/static/data/fashion-mnist"
  python3 - static/data/fashion-mnist "$dir/static/data/fashion-mnist" <<'PY'
import gzip, struct, sys
src, dst = sys.argv[1:]
for split in ("train", "t10k"):
    for part, header in (("images-idx3-ubyte", 16), ("labels-idx1-ubyte", 8)):
        name = f"{split}-{part}.gz"
        data = gzip.open(f"{src}/{name}").read()
        count = min(struct.unpack(">I", data[4:8])[0], 10_000)
        item = 784 if header == 16 else 1
        head = data[:4] + struct.pack(">I", count) + data[8:header]
        gzip.open(f"{dst}/{name}", "wb").write(head + data[header:header + count * item])
PY
  # The Vulkan loader, for a GPU machine without Debian's libvulkan1 (the driver is the GPU's own).
  cp -L "$(ldconfig -p | awk '/libvulkan.so.1 /{print $NF; exit}')" "$dir/lib/"
  du -sh "$dir"
}

run() {
  local out=${OUT:-$dir/out}
  mkdir -p "$out"
  for f in devtools kernel-tests; do
    gunzip -c "$dir/$f.gz" > "$out/$f" && chmod +x "$out/$f"
  done
  # The system's loader first; ours only where there is none.
  export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$PWD/$dir/lib
  { nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; } | tee "$out/adapter.txt"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tee -a "$out/adapter.txt" || true
  # The kernel cases, one at a time (the launch counters are per process); the adapter's name
  # is the first line of the log.
  local status=0
  "$out/kernel-tests" on_vulkan:: --test-threads 1 --nocapture 2>&1 | tee "$out/kernels.log" ||
    status=1
  for device in vulkan flex; do
    "$out/devtools" bench --runs 3 --device "$device" --data "$dir/static" \
      --out "$out/bench-$device.json" 2>&1 | tee "$out/bench-$device.log" || status=1
  done
  rm -f "$out/devtools" "$out/kernel-tests"
  [ "$status" = 0 ] && echo "gpu-check: every kernel agrees with burn's operations on this GPU" ||
    echo "gpu-check: FAILED (see $out/kernels.log and the bench logs)"
  return "$status"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 2 ;;
esac
