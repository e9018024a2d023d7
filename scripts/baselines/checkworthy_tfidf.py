#!/usr/bin/env python3
"""The TF-IDF + logistic regression peer for `factually eval checkworthy`, on the same split.

Usage: python3 scripts/baselines/checkworthy_tfidf.py ../shared/data/claimbuster/train.json
Needs scikit-learn (pip install scikit-learn); not part of the build or the tests.

The split is factually's (crates/eval/src/checkworthy.rs): a sentence is held out when the
first 8 hex digits of sha256(str(sentence_id)) are 0 mod 5; the figure is the F1 of the
check-worthy class on every held-out check-worthy sentence and as many held-out others, the
first in sha256 order.
"""
import hashlib
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score


def key(s):
    return hashlib.sha256(str(s["sentence_id"]).encode()).hexdigest()


def main(path):
    data = json.load(open(path))
    held = [s for s in data if int(key(s)[:8], 16) % 5 == 0]
    train = [s for s in data if int(key(s)[:8], 16) % 5 != 0]
    pos = sorted((s for s in held if s["label"] == 1), key=key)
    neg = sorted((s for s in held if s["label"] == 0), key=key)
    n = min(len(pos), len(neg))
    test = pos[:n] + neg[:n]
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x = vec.fit_transform([s["text"] for s in train])
    model = LogisticRegression(C=4, max_iter=2000, class_weight="balanced")
    model.fit(x, [s["label"] for s in train])
    gold = [s["label"] for s in test]
    got = model.predict(vec.transform([s["text"] for s in test]))
    print(
        f"n={len(test)} precision {precision_score(gold, got):.3f} "
        f"recall {recall_score(gold, got):.3f} F1 {f1_score(gold, got):.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1])
