#!/usr/bin/env python3
"""trunk post_build hook: gives the training workers' module (#18) a content-hashed name and
tells the page that name.

trunk names a `data-type="worker"` module without a hash (`mnist-lab-worker.js`,
`mnist-lab-worker_bg.wasm`), so that code can name it; but an unhashed file may be served stale
from a cache after a deploy. This renames the pair to `mnist-lab-worker-<hash>` (the hash of
both files) and writes the stem into the page as `<meta name="mnist-lab-worker">`, which
`src/app/worker/client.rs` reads when it starts a worker.
"""
import hashlib
import os
import pathlib
import re
import sys

STEM = "mnist-lab-worker"


def main() -> int:
    staging = pathlib.Path(os.environ.get("TRUNK_STAGING_DIR") or sys.argv[1])
    js, wasm = staging / f"{STEM}.js", staging / f"{STEM}_bg.wasm"
    if not js.is_file() or not wasm.is_file():
        print(f"hash-worker: {js} or {wasm} is missing", file=sys.stderr)
        return 1
    digest = hashlib.sha256(wasm.read_bytes() + js.read_bytes()).hexdigest()[:16]
    stem = f"{STEM}-{digest}"
    js.rename(staging / f"{stem}.js")
    wasm.rename(staging / f"{stem}_bg.wasm")
    index = staging / "index.html"
    html = index.read_text()
    meta = f'<meta name="mnist-lab-worker" content="./{stem}" />'
    html, n = re.subn(r'<meta name="mnist-lab-worker" content="[^"]*" />', meta, html)
    if n == 0:
        html = html.replace("</head>", f"  {meta}\n  </head>", 1)
    index.write_text(html)
    print(f"hash-worker: the workers' module is {stem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
