#!/usr/bin/env python3
"""implicit's own ranking metrics for given factors and split, as JSON.

Reads train.csv and test.csv (row,col,value) of one shape and the factors ConsentRec trained
(raw little-endian float32: users.f32, items.f32), puts the factors into an implicit
AlternatingLeastSquares model, and prints implicit.evaluation.ranking_metrics_at_k. The Swift
test compares these numbers with ConsentRec's "implicit-compatible" metrics on the same input.
"""
import argparse
import json
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from implicit.evaluation import ranking_metrics_at_k  # noqa: E402


def load(path, shape):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return sp.csr_matrix((data[:, 2].astype(np.float32), (data[:, 0].astype(np.int32), data[:, 1].astype(np.int32))), shape=shape)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--items", type=int, required=True)
    p.add_argument("--factors", type=int, required=True)
    p.add_argument("-k", type=int, default=10)
    a = p.parse_args()
    shape = (a.users, a.items)
    train, test = load(os.path.join(a.dir, "train.csv"), shape), load(os.path.join(a.dir, "test.csv"), shape)
    model = AlternatingLeastSquares(factors=a.factors)
    model.user_factors = np.fromfile(os.path.join(a.dir, "users.f32"), "<f4").reshape(a.users, a.factors)
    model.item_factors = np.fromfile(os.path.join(a.dir, "items.f32"), "<f4").reshape(a.items, a.factors)
    print(json.dumps(ranking_metrics_at_k(model, train, test, K=a.k, show_progress=False)))


if __name__ == "__main__":
    main()
