#!/usr/bin/env python3
"""Compare ConsentRec's ALS with the Python library `implicit` on one data set.

Both train on the exact same training matrix (one row,col,value CSV, split 80/20 here with
implicit's own train_test_split), with the same factors, regularization, confidence,
iterations and threads, on the same machine; both models are then scored by one evaluator,
implicit.evaluation.ranking_metrics_at_k, so any difference is the trainer's.

implicit treats its input values as the confidence itself; ConsentRec uses 1 + alpha*r. To
pose the same problem, implicit is given 1 + alpha*r with its own alpha = 1.

Run through scripts/bench_vs_implicit.sh, which builds ConsentRec and sets up the venv.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as implicit asks; see its warning

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import threadpoolctl  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from implicit.evaluation import ranking_metrics_at_k, train_test_split  # noqa: E402


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    rows, cols, vals = data[:, 0].astype(np.int32), data[:, 1].astype(np.int32), data[:, 2]
    shape = (rows.max() + 1, cols.max() + 1)
    return sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=shape)


def write_csv(matrix, path):
    coo = matrix.tocoo()
    with open(path, "w") as f:
        f.write("row,col,value\n")
        np.savetxt(f, np.column_stack([coo.row, coo.col, coo.data]), fmt="%d,%d,%g")


def train_implicit(train, args, use_cg):
    model = AlternatingLeastSquares(
        factors=args.factors, regularization=args.regularization, alpha=1.0,
        iterations=args.iterations, use_cg=use_cg, num_threads=args.threads,
        random_state=args.seed, calculate_training_loss=False)
    confidence = train.copy()
    confidence.data = 1 + args.alpha * confidence.data
    times = []
    last = [time.perf_counter()]

    def callback(iteration, elapsed, loss):
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now

    model.fit(confidence, show_progress=False, callback=callback)
    return model, float(np.mean(times))


def train_consentrec(train_csv, shape, args, solver, workdir):
    prefix = os.path.join(workdir, f"consentrec-{solver}")
    out = subprocess.run(
        [args.consentrec_bench, "train", "--input", train_csv, "--rows", str(shape[0]),
         "--columns", str(shape[1]), "--factors", str(args.factors),
         "--iterations", str(args.iterations), "--regularization", str(args.regularization),
         "--alpha", str(args.alpha), "--threads", str(args.threads), "--seed", str(args.seed),
         "--solver", solver, "--factors-out", prefix],
        check=True, capture_output=True, text=True,
        env={**os.environ, **dict(kv.split("=", 1) for kv in args.consentrec_env)})
    lines = out.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    report["machine"] = next((l[len("machine: "):] for l in lines if l.startswith("machine: ")), "unknown")
    model = AlternatingLeastSquares(factors=args.factors)
    model.user_factors = np.fromfile(prefix + ".users.f32", "<f4").reshape(shape[0], args.factors)
    model.item_factors = np.fromfile(prefix + ".items.f32", "<f4").reshape(shape[1], args.factors)
    return model, report["seconds_per_iteration"], report["machine"]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="row,col,value CSV")
    parser.add_argument("--consentrec-bench", required=True)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--regularization", type=float, default=0.01)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--solvers", default="cg,cholesky")
    parser.add_argument("--consentrec-env", action="append", default=[], metavar="KEY=VALUE",
                        help="set for ConsentRec's process only, e.g. OPENBLAS_CORETYPE=Prescott "
                             "to run it on the kernels an unknown CPU falls back to")
    args = parser.parse_args()

    matrix = load(args.data)
    train, test = train_test_split(matrix, train_percentage=0.8, random_state=args.seed)
    train, test = train.tocsr(), test.tocsr()
    print(f"machine: {cpu_model()}, {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}")
    for lib in (l for l in threadpoolctl.threadpool_info() if l.get("user_api") == "blas"):
        print(f"implicit's BLAS: {lib.get('internal_api')} {lib.get('version')} {lib.get('architecture', '')} "
              f"kernels ({os.path.basename(lib.get('filepath', ''))})")
    print(f"data: {args.data}: {matrix.shape[0]} x {matrix.shape[1]}, {matrix.nnz} non-zeros; "
          f"train {train.nnz}, test {test.nnz} (implicit.evaluation.train_test_split, seed {args.seed})")
    print(f"f={args.factors} lambda={args.regularization} alpha={args.alpha} "
          f"iterations={args.iterations} threads={args.threads}")
    print("metrics: implicit.evaluation.ranking_metrics_at_k for both models "
          "(its precision divides by min(K, |test items|))")
    rows = []
    with tempfile.TemporaryDirectory() as workdir, threadpoolctl.threadpool_limits(1, "blas"):
        train_csv = os.path.join(workdir, "train.csv")
        write_csv(train, train_csv)
        for solver in args.solvers.split(","):
            theirs, their_seconds = train_implicit(train, args, use_cg=(solver == "cg"))
            ours, our_seconds, our_machine = train_consentrec(train_csv, matrix.shape, args, solver, workdir)
            m_theirs = ranking_metrics_at_k(theirs, train, test, K=args.k, show_progress=False)
            m_ours = ranking_metrics_at_k(ours, train, test, K=args.k, show_progress=False)
            rows.append((solver, their_seconds, our_seconds, m_theirs, m_ours))
    k = args.k
    print(f"consentrec: {our_machine}")
    print()
    print(f"{'solver':9} {'implicit s/it':>13} {'consentrec s/it':>15} {'ratio':>6}  "
          f"{'implicit p@'+str(k):>13} {'ours p@'+str(k):>10} {'implicit ndcg@'+str(k):>16} {'ours ndcg@'+str(k):>13}")
    for solver, ts, os_, mt, mo in rows:
        print(f"{solver:9} {ts:13.3f} {os_:15.3f} {os_ / ts:6.2f}  {mt['precision']:13.4f} "
              f"{mo['precision']:10.4f} {mt['ndcg']:16.4f} {mo['ndcg']:13.4f}")
    for solver, ts, os_, mt, mo in rows:
        diff = (mo["precision"] - mt["precision"]) / mt["precision"]
        print(f"{solver}: consentrec takes {os_ / ts:.2f}x implicit's time per iteration; "
              f"precision@{k} differs by {diff * 100:+.2f}%")


if __name__ == "__main__":
    sys.exit(main())
