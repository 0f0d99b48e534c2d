"""The daily cost limit, checked before a review is sent: what was spent plus what it may cost.

Spend is summed from the providers' reported cost (or, where a provider reports none, priced
from its model list), and a review is refused when it could take today's spend past
`limits.max_cost_usd`, every model using its whole token limit. Models without a known price
(a local server) count as free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fusion_ls.config.settings import Settings
from fusion_ls.errors import UsageError
from fusion_ls.reviewers.base import Reviewer
from fusion_ls.reviewers.runtime import Runtime

__all__ = ["PROMPT_TOKENS", "code_tokens", "refuse_over_budget"]

PROMPT_TOKENS = 1500
"""The instructions and answer format every prompt carries besides the code, in tokens."""
_CHARS_PER_TOKEN = 4


def code_tokens(lines: Iterable[str]) -> int:
    """About how many tokens the numbered `lines` of a prompt take (a line number and its
    separators are about 8 characters)."""
    return sum(len(line) + 8 for line in lines) // _CHARS_PER_TOKEN


async def most_it_may_cost(
    settings: Settings,
    pool: Sequence[Reviewer],
    judge: Reviewer | None,
    code_tokens: int,
    rounds: int,
) -> float:
    """US dollars a review may cost at most: each round's calls, then the judge (None when
    none will be asked), who reads every answer besides the code."""
    prompt = PROMPT_TOKENS + code_tokens
    calls = [await reviewer.max_cost_usd(prompt) for reviewer in pool]
    answers = settings.fusion.max_tokens * len(pool)
    judging = await judge.max_cost_usd(prompt + answers) if judge else 0.0
    return rounds * sum(c or 0.0 for c in calls) + (judging or 0.0)


async def refuse_over_budget(
    settings: Settings,
    runtime: Runtime,
    pool: Sequence[Reviewer],
    judge: Reviewer | None,
    code_tokens: int,
    rounds: int,
) -> None:
    """UsageError when today's spend, with this review's most, would pass the daily limit."""
    if runtime.ledger is None:
        return
    limit = settings.limits.max_cost_usd
    spent = await runtime.spent_today()
    advice = "raise max_cost_usd in your user config to go on"
    if spent >= limit:
        raise UsageError(
            f"today's spend ${spent:.2f} has reached limits.max_cost_usd = ${limit:.2f} "
            f"(summed from the providers' reported cost); {advice}"
        )
    most = await most_it_may_cost(settings, pool, judge, code_tokens, rounds)
    if spent + most > limit:
        raise UsageError(
            f"this review could cost up to ${most:.2f} (every model using its whole token "
            f"limit, at its provider's listed prices), and today's spend is ${spent:.2f} of "
            f"limits.max_cost_usd = ${limit:.2f}; review fewer lines or {advice}"
        )
