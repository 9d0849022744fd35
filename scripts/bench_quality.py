#!/usr/bin/env python3
"""Tuned for tuned: ConsentRec's tuned ALS against the best of a lambda x alpha grid of `implicit`.

One data set (a row,col,value CSV), split 80/20 into train and test with implicit's own
train_test_split, and the train part split 80/20 again into a validation split. Both libraries
get the same search budget on the validation split, at the same factors and iterations:

- implicit: every point of a regularization x alpha grid (implicit's parameters; the
  confidence it is given is 1 + alpha * r, as in bench_vs_implicit.py); the best by validation
  NDCG@K is then trained on the whole train part. The grid point that is best on the *test*
  split is reported too (an oracle no real tuning has) as the strongest implicit figure.
- ConsentRec: `consentrec-bench tune`, ConsentRec's own search (successive halving by default,
  or random) over regularization, alpha, the unobserved weight a0 and the penalty exponent nu
  of iALS++, with as many candidates as fit in the grid's compute — grid points x iterations
  training iterations on the validation split (random: one candidate per grid point); the
  choice is trained on the whole train part.

Both final models are scored once on the test split by implicit.evaluation.ranking_metrics_at_k.
Run through `make bench-quality` (scripts/bench_quality.sh).
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402
from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
from implicit.evaluation import ranking_metrics_at_k, train_test_split  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from bench_vs_implicit import cpu_model, load, write_csv  # noqa: E402


def fit_implicit(train, factors, iterations, regularization, alpha, threads, seed):
    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=1.0, iterations=iterations,
                                    num_threads=threads, random_state=seed, calculate_training_loss=False)
    confidence = train.copy()
    confidence.data = 1 + alpha * confidence.data
    model.fit(confidence, show_progress=False)
    return model


def fit_consentrec(bench, train_csv, shape, config, threads, seed, workdir):
    prefix = os.path.join(workdir, "consentrec")
    subprocess.run([bench, "train", "--input", train_csv, "--rows", str(shape[0]), "--columns", str(shape[1]),
                    "--factors", str(config["factors"]), "--iterations", str(config["iterations"]),
                    "--regularization", str(config["regularization"]), "--alpha", str(config["alpha"]),
                    "--unobserved-weight", str(config["unobserved_weight"]),
                    "--regularization-exponent", str(config["regularization_exponent"]),
                    "--threads", str(threads), "--seed", str(seed), "--factors-out", prefix],
                   check=True, capture_output=True, text=True)
    model = AlternatingLeastSquares(factors=config["factors"])
    model.user_factors = np.fromfile(prefix + ".users.f32", "<f4").reshape(shape[0], config["factors"])
    model.item_factors = np.fromfile(prefix + ".items.f32", "<f4").reshape(shape[1], config["factors"])
    return model


def halving_iterations(candidates, iterations, reduction=3):
    """Training iterations successive halving spends on `candidates` (as HyperparameterSearch runs it)."""
    rungs, n = 1, candidates
    while n > 1:
        n = (n + reduction - 1) // reduction
        rungs += 1
    total, alive = 0, candidates
    for r in range(rungs):
        fidelity = reduction ** (r - rungs + 1)
        total += alive * max(1, int(iterations * fidelity + 0.5))  # Swift rounds halves away from zero
        alive = max(1, (alive + reduction - 1) // reduction)
    return total


def candidates_for(budget, iterations, strategy):
    if strategy == "random":
        return budget // iterations
    n = 1
    while halving_iterations(n + 1, iterations) <= budget:
        n += 1
    return n


def ndcg(model, train, test, k):
    return ranking_metrics_at_k(model, train, test, K=k, show_progress=False)["ndcg"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="row,col,value CSV")
    parser.add_argument("--name", default="data")
    parser.add_argument("--consentrec-bench", required=True)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--regularizations", default="0.001,0.01,0.1,1,10")
    parser.add_argument("--alphas", default="0.3,1,3,10")
    parser.add_argument("--strategy", default="halving", choices=["halving", "random"])
    parser.add_argument("--trials", type=int, default=0, help="ConsentRec's candidates (default: as many as the grid's compute pays for)")
    args = parser.parse_args()

    matrix = load(args.data)
    train, test = (m.tocsr() for m in train_test_split(matrix, train_percentage=0.8, random_state=args.seed))
    inner, validation = (m.tocsr() for m in train_test_split(train, train_percentage=0.8, random_state=args.seed + 1))
    grid = list(itertools.product([float(x) for x in args.regularizations.split(",")], [float(x) for x in args.alphas.split(",")]))
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    print(f"data {args.name}: {matrix.shape[0]} x {matrix.shape[1]}, {matrix.nnz} non-zeros; train {train.nnz} "
          f"(of which validation {validation.nnz}), test {test.nnz}; f={args.factors}, {args.iterations} iterations; "
          f"metric ndcg@{args.k} by implicit.evaluation.ranking_metrics_at_k")
    budget = len(grid) * args.iterations
    trials = args.trials or candidates_for(budget, args.iterations, args.strategy)
    spent = halving_iterations(trials, args.iterations) if args.strategy == "halving" else trials * args.iterations
    print(f"search compute on the validation split: implicit {budget} training iterations ({len(grid)} grid points), "
          f"consentrec {spent} ({trials} candidates, {args.strategy})")
    with tempfile.TemporaryDirectory() as workdir, threadpoolctl.threadpool_limits(1, "blas"):
        by_validation = []
        for regularization, alpha in grid:
            on_inner = fit_implicit(inner, args.factors, args.iterations, regularization, alpha, args.threads, args.seed)
            on_train = fit_implicit(train, args.factors, args.iterations, regularization, alpha, args.threads, args.seed)
            by_validation.append((ndcg(on_inner, inner, validation, args.k), regularization, alpha, ndcg(on_train, train, test, args.k)))
        chosen = max(by_validation, key=lambda t: t[0])
        oracle = max(by_validation, key=lambda t: t[3])

        paths = {name: os.path.join(workdir, name + ".csv") for name in ("inner", "validation", "train")}
        write_csv(inner, paths["inner"])
        write_csv(validation, paths["validation"])
        write_csv(train, paths["train"])
        out = subprocess.run([args.consentrec_bench, "tune", "--train", paths["inner"], "--validation", paths["validation"],
                              "--rows", str(matrix.shape[0]), "--columns", str(matrix.shape[1]), "--factors", str(args.factors),
                              "--iterations", str(args.iterations), "--threads", str(args.threads), "--seed", str(args.seed),
                              "--trials", str(trials), "--strategy", args.strategy, "-k", str(args.k)],
                             check=True, capture_output=True, text=True)
        tuned = json.loads(out.stdout.strip().splitlines()[-1])
        ours = ndcg(fit_consentrec(args.consentrec_bench, paths["train"], matrix.shape, tuned, args.threads, args.seed, workdir),
                    train, test, args.k)
    print(f"implicit, best of the grid by validation: lambda={chosen[1]:g} alpha={chosen[2]:g}: test ndcg@{args.k} {chosen[3]:.4f}")
    print(f"implicit, best of the grid on test (oracle): lambda={oracle[1]:g} alpha={oracle[2]:g}: test ndcg@{args.k} {oracle[3]:.4f}")
    print(f"consentrec tuned ({args.strategy}, {tuned['trials']} trials): lambda={tuned['regularization']:g} alpha={tuned['alpha']:g} "
          f"a0={tuned['unobserved_weight']:g} nu={tuned['regularization_exponent']:g}: test ndcg@{args.k} {ours:.4f}")
    print(f"{args.name}: consentrec tuned / implicit tuned = {ours / chosen[3]:.3f}; / implicit oracle = {ours / oracle[3]:.3f}")


if __name__ == "__main__":
    sys.exit(main())
