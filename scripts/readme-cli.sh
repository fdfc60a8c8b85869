#!/usr/bin/env bash
# Regenerates the README's CLI reference (between <!-- cli-help --> and <!-- /cli-help -->) from
# the CLI's own --help, which tests/cli.rs checks the README against.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=(cargo run --release --features vulkan -q --)
{
  echo '<!-- cli-help -->'
  echo '```text'
  "${bin[@]}" --help
  for cmd in data smoke compress evaluate gan judge; do
    echo
    echo "\$ mnist-lab $cmd --help"
    "${bin[@]}" "$cmd" --help
  done
  echo '```'
  echo '<!-- /cli-help -->'
} > target/cli-help.md
python3 - <<'PY'
import re
readme = open("README.md").read()
block = open("target/cli-help.md").read().rstrip("\n")
new, n = re.subn(r"<!-- cli-help -->.*?<!-- /cli-help -->", lambda _: block, readme, flags=re.S)
if n != 1:
    raise SystemExit("README.md has no <!-- cli-help --> … <!-- /cli-help --> block")
open("README.md", "w").write(new)
print("README.md: CLI reference regenerated")
PY
