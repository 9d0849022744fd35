#!/usr/bin/env python3
"""ε of a composition of Gaussian mechanisms by Google's dp-accounting (its RDP accountant):
an independent check of ConsentRec's accountant and of the `privacy` record of a model file.

Input (stdin): a JSON list of cases, each {"delta": δ, "mechanisms": [{"noise_multiplier": z,
"count": n}, ...]} — the shape of a model file's privacy.training / privacy.held_out groups.
Output: one ε per line, in order.
"""
import json
import sys

import dp_accounting
from dp_accounting import rdp


def epsilon(case):
    accountant = rdp.RdpAccountant()
    for m in case["mechanisms"]:
        accountant.compose(dp_accounting.GaussianDpEvent(m["noise_multiplier"]), m["count"])
    return accountant.get_epsilon(case["delta"])


if __name__ == "__main__":
    for case in json.load(sys.stdin):
        print(repr(float(epsilon(case))))
