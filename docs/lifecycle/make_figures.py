"""Draw the figures of the lifecycle pages (run from the repository root):

    python docs/lifecycle/make_figures.py

Writes ``docs/lifecycle/cdnow_stages.png``: the lifecycle stages of the 2,357 CDNOW customers
at the end of the data (30 June 1998), and the stage shares of the same cohort at the end of
each quarter, as the firm would have seen them then (:func:`crmcore.lifecycle.stage_migration`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from crmcore.datasets import load_cdnow
from crmcore.lifecycle import LifecycleStage, classify, stage_migration

HERE = Path(__file__).resolve().parent
CUTOFFS = ["1997-03-31", "1997-06-30", "1997-09-30", "1997-12-31", "1998-03-31", "1998-06-30"]
COLOURS = {
    LifecycleStage.EXPLORATION: "#8fb3d9",
    LifecycleStage.FORMATION: "#4f8f4f",
    LifecycleStage.STABILITY: "#1f5f8b",
    LifecycleStage.DECLINE: "#e09f3e",
    LifecycleStage.TERMINATED: "#9e2a2b",
}


def main() -> None:
    base = load_cdnow()
    stages = classify(base)
    counts = stages.counts()
    migration = stage_migration(base, CUTOFFS)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    values = [counts[s] for s in LifecycleStage]
    bars = left.bar(range(5), values, color=[COLOURS[s] for s in LifecycleStage])
    left.bar_label(bars, labels=[f"{v:,}" for v in values], padding=2, fontsize=9)
    left.set_xticks(range(5), [s.value for s in LifecycleStage], fontsize=9)
    left.set_ylabel("customers")
    left.set_title("CDNOW cohort on 30 June 1998 (2,357 customers)", fontsize=10)

    shares = np.zeros((len(CUTOFFS), 5))
    for column in range(len(CUTOFFS)):
        code = migration.code[:, column]
        acquired = code >= 0
        shares[column] = np.bincount(code[acquired], minlength=5) / acquired.sum()
    x = np.arange(len(CUTOFFS))
    bottom = np.zeros(len(CUTOFFS))
    for stage in LifecycleStage:
        right.bar(x, shares[:, stage.order], bottom=bottom, color=COLOURS[stage],
                  label=stage.value, width=0.7)
        bottom += shares[:, stage.order]
    right.set_xticks(x, [c[:7] for c in CUTOFFS], fontsize=9)
    right.set_ylabel("share of customers acquired by then")
    right.set_ylim(0, 1)
    right.set_title("The same cohort at the end of each quarter", fontsize=10)
    right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    fig.savefig(HERE / "cdnow_stages.png", dpi=110)


if __name__ == "__main__":
    main()
