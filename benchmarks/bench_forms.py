"""The three forms of the margin program against each other, and the form min_cost picks.

Run from the repository root: ``python -m benchmarks.bench_forms`` (not a test: timings depend on
the machine and its load; ``--quick``: C = 4, 8 and one seed). The table goes to
benchmarks/results/forms.json. On the instance family of bench_min_cost (d = 128, n = 3,
r_eta = 6, lam = 1, kappa = 1, fallback constraints), each pattern's program is solved by
``min_cost`` once in each form (``Policy(form=...)``; the rest of the ladder as min_cost runs it),
in the same run. Printed per row: each form's time of the whole min_cost call and certified gap,
the fastest form, the form min_cost picks (:func:`sinkcheck.construct.sinkdiag.min_cost.program_form`)
and its time against the fastest; and whether the three certified brackets overlap (the forms
solve one program, so they must).
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import record
from sinkcheck.construct.sinkdiag.instance import sample_instance
from sinkcheck.construct.sinkdiag.min_cost import min_cost, program_form, scaled_program
from sinkcheck.solvers.ladder import Policy
from sinkcheck.solvers.program import FORMS

COLUMNS = ["C", "seed", "pattern", *(f"{f}" for f in FORMS), "fastest", "picked", "picked / fastest",
           "brackets overlap"]


def timed(inst, pattern: str, form: str):
    start = time.perf_counter()
    sol = min_cost(inst, pattern, policy=Policy(form=form))
    return sol, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="C = 4 and 8, seed 0")
    args = ap.parse_args()
    Cs, seeds = ((4, 8), (0,)) if args.quick else ((4, 8, 12, 20), (0, 1))
    ok, rows, ratios = True, [], []
    for C in Cs:
        for seed in seeds:
            inst = sample_instance(128, C, 3, 6, 1.0, 1.0, seed=seed)
            for pattern in ("sink", "diag"):
                runs = {f: timed(inst, pattern, f) for f in FORMS}
                fastest = min(FORMS, key=lambda f: runs[f][1])
                picked = program_form(pattern, scaled_program(inst, pattern)[1].shape[1])
                overlap = max(s.opt_lower for s, _ in runs.values()) <= min(s.opt for s, _ in runs.values())
                ok &= overlap
                ratios.append((runs[picked][1] / runs[fastest][1], C, seed, pattern))
                rows.append([str(C), str(seed), pattern,
                             *(f"{runs[f][1]:.2f} s ({(runs[f][0].opt - runs[f][0].opt_lower) / runs[f][0].opt:.0e})"
                               for f in FORMS),
                             fastest, picked, f"{ratios[-1][0]:.2f}", "yes" if overlap else "NO"])
                print(" | ".join(rows[-1]), flush=True)
    worst = max(ratios)
    notes = [f"{'met' if ok else 'MISSED'}: the three forms' certified brackets overlap on every program",
             f"the picked form is the fastest on {sum(r[0] == 1.0 for r in ratios)} of {len(ratios)} programs; "
             f"at worst {worst[0]:.2f} times the fastest (C = {worst[1]}, seed {worst[2]}, {worst[3]}) (no goal: a "
             "measurement of the choice)",
             "cells: time of the whole min_cost call (certified relative gap)"]
    for note in notes:
        print(note)
    record.write("forms", "The margin program's three forms, and the one min_cost picks",
                 "python -m benchmarks.bench_forms" + (" --quick" if args.quick else ""), COLUMNS, rows, notes)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
