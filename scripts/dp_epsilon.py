#!/usr/bin/env python3
"""ε of a composition of Gaussian mechanisms by Google's dp-accounting (its RDP accountant):
an independent check of ConsentRec's accountant and of the `privacy` record of a model file.

Usage:
  dp_epsilon.py MODEL.safetensors   the ε of a private model, from its `privacy` metadata alone:
                                    one line per group and the guarantee (the worse group's)
  dp_epsilon.py < cases.json        a JSON list of cases, each {"delta": δ, "mechanisms":
                                    [{"noise_multiplier": z, "count": n}, ...]} (the shape of
                                    privacy.training and privacy.held_out); one ε per line
"""
import json
import struct
import sys

import dp_accounting
from dp_accounting import rdp


def epsilon(case):
    accountant = rdp.RdpAccountant()
    for m in case["mechanisms"]:
        accountant.compose(dp_accounting.GaussianDpEvent(m["noise_multiplier"]), m["count"])
    return accountant.get_epsilon(case["delta"])


def model_privacy(path):
    """The `privacy` record of a safetensors model file (its JSON header's metadata)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
    metadata = header.get("__metadata__", {})
    if "privacy" not in metadata:
        sys.exit(f"{path}: not a private model (no privacy metadata)")
    return json.loads(metadata["privacy"])


if __name__ == "__main__":
    if len(sys.argv) == 2:
        plan = model_privacy(sys.argv[1])
        groups = {name: epsilon(plan[name]) for name in ("training", "held_out")}
        for name, value in groups.items():
            print(f"{name}: epsilon {value:.6g} at delta {plan[name]['delta']:.3g}")
        print(f"guarantee: epsilon {max(groups.values()):.6g} at delta {plan['parameters']['delta']:.3g} "
              f"(target {plan['parameters']['epsilon']:.6g})")
    else:
        for case in json.load(sys.stdin):
            print(repr(float(epsilon(case))))
