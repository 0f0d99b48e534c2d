"""`fusion-ls eval`: does fusion pay on this code? Every setup over one labelled dataset.

A dataset is a directory with a `dataset.toml` that lists snippet files and their known defects
(format: `eval/README.md`). Each setup — every pool model alone, then fusion in each mode with
the whole pool — reviews every snippet through the same `Engine` a user runs. Findings are
matched to the labels by line overlap and summed into precision, recall and F1, with latency,
tokens and cost beside them, so quality and price are compared on the same code.

Matching and scoring rules (also in `eval/README.md`):
- a finding matches a label when their line ranges overlap; each label and each finding is
  matched at most once, greedily by overlap size (ties: label order, then finding order), so the
  result is deterministic; the category does not have to agree;
- a matched label is a true positive, an unmatched label a false negative, an unmatched finding
  (on a clean snippet or not) a false positive;
- precision, recall and F1 are 0 when undefined (no findings, no labels, neither);
- a failed case (no model answered) has no findings: its labels count as misses and its time
  counts in the latency, because that is what a user of the setup would have got;
- latency is each review's `elapsed_s`; p95 is nearest-rank (with 20 cases or fewer, the max);
- for fusion, precision per agreement level k (the findings raised by exactly k models that
  matched a label) and the scores keeping only findings raised by at least k models, each case
  matched again (`min_agreement = k`), for k = 1..pool size.

`--record DIR` saves every reviewer call of a run and `--replay DIR` answers every call from
such a recording (`recording.py`), so fusion can be re-scored under other settings for free.
"""

from __future__ import annotations

from fusion_ls.cli.evaluation.dataset import Dataset, DatasetError, load_dataset
from fusion_ls.cli.evaluation.recording import Recorder, Replayer
from fusion_ls.cli.evaluation.render import render_eval
from fusion_ls.cli.evaluation.runner import EvalProgress, EvalReport, run_eval, setups_for
from fusion_ls.cli.evaluation.scoring import CaseOutcome, match, summarise

__all__ = [
    "CaseOutcome",
    "Dataset",
    "DatasetError",
    "EvalProgress",
    "EvalReport",
    "Recorder",
    "Replayer",
    "load_dataset",
    "match",
    "render_eval",
    "run_eval",
    "setups_for",
    "summarise",
]
