#!/usr/bin/env python3
"""Builds crates/fetch/data/credibility.tsv, the per-domain reliability table factually ships.

Inputs (see ../shared/data/README.md for their origin and licences):
  idiap/reliability_scores.json          Burdisso et al. (NAACL 2024), Apache-2.0: `p-reliability`, -1..1
  idiap/wikipedia_perennial_sources.json Wikipedia perennial-source labels, CC BY-SA:
                                          1 reliable, 0 no consensus, -1 unreliable, -2 deprecated
  iffy/*.txt                             Iffy.news low-factuality domains, MIT

Rule (documented in docs/web.md):
  score = (idiap p-reliability + 1) / 2 when known, else none;
  perennial 1 raises it to at least 0.8 (0.8 when unknown); 0 caps it at 0.6 (0.5 when unknown);
  -1 caps it at 0.3; -2 sets 0.05;
  Iffy 2024 low/very-low caps it at 0.2; Iffy 2023 mixed-or-lower caps it at 0.35.
Wikipedia is rated 0.7 whatever the lists say: the perennial list marks it unreliable *as a
citation inside Wikipedia* (user-generated), but as a tertiary source for general facts, which
is how factually uses it, it is among the more reliable sites on the web.
Domains with no score from any input are left out (the reader assumes 0.5).

Usage: build_credibility.py SHARED_CREDIBILITY_DIR > crates/fetch/data/credibility.tsv
"""
import json
import re
import sys
from pathlib import Path

root = Path(sys.argv[1])
scores = {}
for domain, row in json.loads((root / "idiap/reliability_scores.json").read_text()).items():
    p = row.get("p-reliability")
    if p is not None:
        scores[domain.lower()] = (float(p) + 1.0) / 2.0

for domain, label in json.loads((root / "idiap/wikipedia_perennial_sources.json").read_text()).items():
    d = domain.lower()
    s = scores.get(d)
    if label == 1:
        scores[d] = max(s if s is not None else 0.8, 0.8)
    elif label == 0:
        scores[d] = min(s if s is not None else 0.5, 0.6)
    elif label == -1:
        scores[d] = min(s if s is not None else 0.3, 0.3)
    elif label == -2:
        scores[d] = 0.05


def iffy(path):
    for line in path.read_text().splitlines():
        m = re.match(r"https?://(?:www\.)?([^/]+)", line.strip())
        if m:
            yield m.group(1).lower()


for d in iffy(root / "iffy/2023-04-01__iffy_list_mixed_low_verylow.txt"):
    scores[d] = min(scores.get(d, 0.35), 0.35)
for d in iffy(root / "iffy/2024-08-01__iffy_list_low_verylow.txt"):
    scores[d] = min(scores.get(d, 0.2), 0.2)

for d in ("wikipedia.org", "en.wikipedia.org"):
    scores[d] = 0.7

print("# domain\treliability (0..1); built by build_credibility.py from the idiap (Apache-2.0), "
      "Wikipedia perennial sources (CC BY-SA) and Iffy.news (MIT) lists")
for d in sorted(scores):
    if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", d):
        print(f"{d}\t{scores[d]:.3f}")
