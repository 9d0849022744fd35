#!/usr/bin/env python3
"""Recompute a ConsentRec recommendation from a published model with safetensors and numpy.

Reads the JSON that `consentrec recommend --json` prints (the model path, the user's model
rows and training weights, the rows left out, K, and Swift's ranking), loads the model file
from the run with the Python `safetensors` package, folds the user in with numpy in float64
(the implicit-ALS normal equations), scores with the model's own ranker (metadata `ranker`:
`als` = x.y, `popularity` = users per item, `blend:b` = x.y + b * popularity / max popularity),
ranks, and checks that the ranking and scores equal Swift's. Exit 0 when they agree, 1 when
they do not.

    consentrec recommend --run OUT --workspace W --user U --events E --json > rec.json
    python3 scripts/check_model.py --run OUT rec.json
"""
import argparse
import json
import os
import sys

import numpy as np
from safetensors import safe_open


def resolve_run(path):
    if os.path.exists(os.path.join(path, "manifest.json")):
        return path
    current = os.path.join(path, "current")
    if os.path.exists(os.path.join(current, "manifest.json")):
        return current
    sys.exit(f"{path}: not a run directory or output root")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="output root or run directory")
    parser.add_argument("recommendation", help="JSON from `consentrec recommend --json` (- for stdin)")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    source = sys.stdin if args.recommendation == "-" else open(args.recommendation)
    swift = json.load(source)
    run = resolve_run(args.run)
    with safe_open(os.path.join(run, swift["model"]), framework="np") as f:
        y = f.get_tensor("item_factors").astype(np.float64)
        meta = f.metadata()
    hp = json.loads(meta["hyperparameters"])
    ids = json.loads(meta["item_ids"])
    assert len(ids) == y.shape[0], "one id per item row"

    # Fold-in (iALS++ form): (a0 YtY + sum alpha r y y^T + lambda_u I) x = sum (a0 + alpha r) y,
    # lambda_u = lambda (n_u + a0 * items)^nu; a0 = 1, nu = 0 when the file does not say.
    lam, alpha = hp["regularization"], hp["alpha"]
    a0, nu = hp.get("unobserved_weight", 1.0), hp.get("regularization_exponent", 0.0)
    rows = np.array(swift["user_items"], dtype=np.int64)
    r = np.array(swift["user_weights"], dtype=np.float64)
    # Files before rankers (consentrec-als-2) rank by ALS, whatever else their metadata says.
    ranker = meta.get("ranker", "als") if meta.get("format") != "consentrec-als-2" else "als"
    if ranker == "popularity":
        scores = np.zeros(y.shape[0])
    else:
        yu = y[rows[r > 0]]
        r = r[r > 0]
        lam_u = lam * (len(r) + a0 * y.shape[0]) ** nu
        a = a0 * (y.T @ y) + lam_u * np.eye(y.shape[1]) + (yu.T * (alpha * r)) @ yu
        b = ((a0 + alpha * r)[:, None] * yu).sum(axis=0)
        scores = y @ np.linalg.solve(a, b)
    if ranker != "als":
        popularity = np.array(json.loads(meta["item_popularity"]), dtype=np.float64)
        assert len(popularity) == y.shape[0], "one popularity count per item row"
        if ranker == "popularity":
            scores = popularity
        else:
            assert ranker.startswith("blend:"), f"unknown ranker {ranker}"
            top = popularity.max()
            scores = scores + float(ranker[len("blend:"):]) * (popularity / top if top > 0 else popularity)
    scores[np.array(swift["excluded"], dtype=np.int64)] = -np.inf
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: swift["k"]]
    order = [i for i in order if np.isfinite(scores[i])]

    ours = [item["row"] for item in swift["recommendations"]]
    theirs_scores = [item["score"] for item in swift["recommendations"]]
    ok = True
    if ours != order:
        # Rankings may swap items whose scores tie within float32 rounding.
        for i, j in zip(ours, order):
            if i != j and abs(scores[i] - scores[j]) > args.tolerance * max(1.0, abs(scores[j])):
                ok = False
    for i, s in zip(ours, theirs_scores):
        if abs(scores[i] - s) > args.tolerance * max(1.0, abs(scores[i])):
            ok = False
    def same_ranker(a, b):
        if a.startswith("blend:") and b.startswith("blend:"):
            return float(a[len("blend:"):]) == float(b[len("blend:"):])
        return a == b

    if not same_ranker(swift.get("ranker", "als"), ranker):
        ok = False
    print(f"model {swift['model']}: {y.shape[0]} items x {y.shape[1]} factors, ranker {ranker}; user folded in from {len(rows)} items")
    print(f"numpy top {len(order)}: {[ids[i] for i in order]}")
    print(f"swift top {len(ours)}: {[ids[i] for i in ours]}")
    print("recommendations agree" if ok else "recommendations DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
