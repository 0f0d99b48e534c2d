"""What the repository says about one file's review: its path rule, its team's rule files, its
`fusion: ignore` comments and its baseline.

Gathered once per request, before anything is sent, so the prompt (instructions and
conventions), the mode, the dial and what is shown all follow the same rules in the CLI and the
editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fusion_ls.config.settings import ReviewSettings, Settings
from fusion_ls.engine.baseline import Baseline, baseline_file, recorded_path
from fusion_ls.engine.exclude import project_root
from fusion_ls.engine.postprocess import Policy
from fusion_ls.engine.request import CodeRequest
from fusion_ls.engine.rule_files import RuleFile, conventions, rule_files
from fusion_ls.engine.suppressions import find_suppressions
from fusion_ls.findings import Finding, Mode

__all__ = ["ProjectRules", "record_in_baseline"]


def record_in_baseline(
    settings: Settings,
    file: Path,
    workspace: Path | None,
    lines: Sequence[str],
    findings: Sequence[Finding],
) -> Path:
    """Add `findings` of `file` (whose text is `lines`) to its project's baseline; where."""
    root = project_root(file, workspace)
    target = baseline_file(settings.review, root)
    Baseline.load(target).with_findings(recorded_path(file, root), lines, findings).save(target)
    return target


@dataclass(frozen=True)
class ProjectRules:
    review: ReviewSettings
    """The review settings as the file's path rule changes them."""
    mode: Mode | None
    """The path rule's mode, if it names one."""
    policy: Policy
    rule_files: tuple[RuleFile, ...]

    @property
    def instructions(self) -> str:
        """The maintainers' instructions and the team's conventions, as the prompt states
        them."""
        parts = (self.review.instructions.strip(), conventions(self.rule_files))
        return "\n\n".join(part for part in parts if part)

    def report_unused(self, whole_file: bool, answered: int, failed: int) -> bool:
        """Whether "it suppressed nothing" can be said: asked for, of a whole file (outside
        the reviewed lines a suppression had nothing to suppress), that every model reviewed
        (the one that failed may be the one that would have raised it)."""
        asked = self.review.report_unused_suppressions
        return asked and whole_file and answered > 0 and failed == 0

    @classmethod
    def of(cls, settings: Settings, request: CodeRequest, lines: Sequence[str]) -> ProjectRules:
        """The rules for `request`, whose document has `lines`. A request with no file on disk
        (an unsaved buffer) has only its own comments and the project-wide settings."""
        review, mode = settings.review, None
        found: list[RuleFile] = []
        baseline = None
        if request.file is not None:
            root = project_root(request.file, request.workspace)
            relative = recorded_path(request.file, root)
            review, mode = review.for_path(relative)
            if request.min_agreement is not None:
                review = review.model_copy(update={"min_agreement": request.min_agreement})
            found = rule_files(request.file, root, review.rule_files, review.exclude)
            entries = Baseline.load(baseline_file(review, root))
            baseline = entries.matcher(relative, lines, root) if entries.findings else None
        policy = Policy(
            suppressions=tuple(find_suppressions(lines)),
            exclude_categories=frozenset(review.exclude_categories),
            baseline=baseline,
        )
        return cls(review, mode, policy, tuple(found))
