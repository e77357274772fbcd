#!/usr/bin/env python3
"""docs/architecture.md stays true to the tree: every source and header is listed in the layer
table row of its layer, and every file the page names exists."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
page = (root / "docs/architecture.md").read_text()
problems = []

# The layer table: "| `layer` | ... | `a`, `b`, ... |"
rows = {}
for line in page.splitlines():
    m = re.match(r"\| `(\w+)` \|.*\| (.*) \|$", line)
    if m:
        rows[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
for layer in ("core", "parallel", "io", "model", "app"):
    if layer not in rows:
        problems.append("no row for layer %s in the layer table" % layer)
        continue
    stems = {p.stem for p in (root / "src" / layer).glob("*.cpp")}
    stems |= {p.stem for p in (root / "include/rfmseg" / layer).glob("*.hpp")}
    for stem in sorted(stems - rows[layer]):
        problems.append("%s/%s is not in the %s row of the layer table" % (layer, stem, layer))
    for stem in sorted(rows[layer] - stems):
        problems.append("the %s row names %s, which is not in src/%s or include/rfmseg/%s" % (layer, stem, layer, layer))

# Every `layer/file.ext` the page names exists (in src/ or include/rfmseg/).
for name in sorted(set(re.findall(r"`((?:core|parallel|io|model|app)/\w+\.(?:cpp|hpp))", page))):
    if not ((root / "src" / name).exists() or (root / "include/rfmseg" / name).exists()):
        problems.append("the page names %s, which does not exist" % name)

for p in problems:
    print("architecture.md:", p)
print("docs/architecture.md: %s" % ("OK" if not problems else "%d problem(s)" % len(problems)))
sys.exit(1 if problems else 0)
