#!/usr/bin/env python3
"""Checks the source tree's layout rules, so that a regression fails `make lint` (and CI):

1. No import cycle among the files under src/ (test modules aside): every `use crate::…`,
   `use super::…` and inline `crate::a::b::c` path is resolved to the file that defines it (a
   `pub use` re-export in a mod.rs is followed to the file it re-exports), and the file graph
   must have no strongly connected component of more than one file.
2. No file in src/lab/core/ names an exercise module (classifier, compress, gan, data).
3. No source file over 500 lines, its in-file `#[cfg(test)] mod tests` block included (a long
   test module goes to a file of its own, e.g. `trainer/tests.rs`, so no file hides its size).

Written by hand (no crate reads Rust imports this way without compiling the crate): it reads
text, so it runs in a second, before any build.
"""
import re
import sys
from pathlib import Path

MAX_LINES = 500
CORE_FORBIDDEN = ("classifier", "compress", "gan", "data")

root = Path(__file__).resolve().parent.parent
src = root / "src"


def module_path(file: Path) -> tuple:
    """src/lab/gan/mod.rs -> ("lab", "gan"); src/lab/core/rng.rs -> ("lab", "core", "rng")."""
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


def strip_tests(text: str) -> tuple:
    """The text without its `#[cfg(test)] mod … { … }` blocks, and how many lines those had."""
    lines = text.split("\n")
    out, removed, i = [], 0, 0
    while i < len(lines):
        if lines[i].strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub )?mod \w+ \{", lines[i + 1]):
            depth, j = 0, i + 1
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                j += 1
                if depth <= 0:
                    break
            removed += j - i
            i = j
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out), removed


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] if "\"" not in line else re.sub(r"^\s*//.*", "", line) for line in text.split("\n"))


def use_paths(text: str) -> list:
    """Every path a `use` declaration names (braces expanded) plus inline `crate::…` paths."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths.extend(expand(re.sub(r"\s+", "", m.group(1))))
    for m in re.finditer(r"(?<![\w:])crate((?:::\w+)+)", text):
        paths.append("crate" + m.group(1))
    return paths


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (`as` renames dropped)."""
    tree = re.sub(r"as\w+$", "", tree.replace(" ", ""))
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"\bas\b.*$", "", tree)]
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for item in filter(None, items):
        for p in expand(item):
            out.append(prefix + p if p != "self" else prefix.rstrip(":"))
    return out


files = {module_path(f): f for f in sorted(src.rglob("*.rs"))}
texts = {}
errors = []
for mod, f in files.items():
    raw = f.read_text()
    body, _ = strip_tests(raw)
    texts[mod] = strip_comments(body)
    if raw.count("\n") > MAX_LINES:
        errors.append(f"{f.relative_to(root)}: {raw.count(chr(10))} lines, its tests included (limit {MAX_LINES})")

# `pub use a::b::{C, D}` in a file: C and D resolve to a::b's file.
reexports = {mod: {} for mod in files}


def absolute(mod: tuple, path: str, is_dir_mod: bool) -> list:
    parts = [p for p in path.split("::") if p]
    if not parts:
        return []
    if parts[0] == "crate":
        return parts[1:]
    if parts[0] in ("super", "self"):
        base = list(mod) if is_dir_mod else list(mod)  # a file's own module path
        while parts and parts[0] in ("super", "self"):
            if parts.pop(0) == "super":
                base = base[:-1]
        return base + parts
    # `use models::X` inside a mod.rs names a child module.
    if is_dir_mod and tuple(list(mod) + [parts[0]]) in files:
        return list(mod) + parts
    return []


def resolve(parts: list, seen=()) -> tuple:
    """The file that defines `parts` (longest module prefix, re-exports followed)."""
    for n in range(len(parts), 0, -1):
        if tuple(parts[:n]) in files:
            mod = tuple(parts[:n])
            rest = parts[n:]
            if rest and rest[0] in reexports[mod] and mod not in seen:
                return resolve(reexports[mod][rest[0]] + rest[1:], seen + (mod,))
            return mod
    return None


for mod, text in texts.items():
    is_dir_mod = files[mod].name in ("mod.rs", "lib.rs", "main.rs")
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
        for p in expand(re.sub(r"\s+", "", m.group(1))):
            parts = absolute(mod, p, is_dir_mod)
            if parts:
                reexports[mod][parts[-1]] = parts

graph = {mod: set() for mod in files}
for mod, text in texts.items():
    is_dir_mod = files[mod].name in ("mod.rs", "lib.rs", "main.rs")
    paths = use_paths(text)
    # Inline paths through a child module this file declares (`gan::run(…)` in cli.rs) and
    # through `super::` / `self::`: calls, not only `use` lines, make a file depend on another.
    children = re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text, flags=re.M)
    for child in children:
        for m in re.finditer(rf"(?<![\w:]){child}((?:::\w+)+)", text):
            paths.append("self::" + child + m.group(1))
    for m in re.finditer(r"(?<![\w:])((?:super|self)(?:::\w+)+)", text):
        paths.append(m.group(1))
    for p in paths:
        child_base = mod if not is_dir_mod and p.startswith("self::") and p.split("::")[1] in children else None
        if child_base is not None:
            parts = list(mod) + p.split("::")[1:]
        else:
            parts = absolute(mod, p, is_dir_mod)
        target = resolve(parts) if parts else None
        if target is not None and target != mod and target != ():
            graph[mod].add(target)

# Tarjan's strongly connected components.
index, low, stack, on_stack, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            comp.append(w)
            if w == v:
                break
        sccs.append(comp)


for v in graph:
    if v not in index:
        visit(v)

name = lambda m: str(files[m].relative_to(root))
for comp in sccs:
    if len(comp) > 1:
        members = sorted(comp)
        edges = [f"{name(a)} -> {name(b)}" for a in members for b in sorted(graph[a]) if b in comp]
        errors.append("import cycle among " + ", ".join(name(m) for m in members) + ":\n    " + "\n    ".join(edges))

for mod in files:
    if mod[:2] == ("lab", "core"):
        for target in graph[mod]:
            if target[:1] == ("lab",) and len(target) > 1 and target[1] in CORE_FORBIDDEN:
                errors.append(f"{name(mod)} (core) imports {name(target)}: core must not name an exercise")

if errors:
    print("layout check failed:")
    for e in errors:
        print("  " + e)
    sys.exit(1)
print(f"layout check: {len(files)} files, no import cycle, none over {MAX_LINES} lines")
