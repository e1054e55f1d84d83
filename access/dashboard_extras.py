"""What other apps add to the sales dashboard, registered in their AppConfig.ready(), so that
access/ names none of them (payments/ registers both):

- sections: templates shown under the headline, in the order registered, with the page's
  context (`period`, `series`, `figures`);
- income: what sales made elsewhere than by DM brought in, added to the headline's revenue. A
  source is called with the period and the series (or None) and gives, per currency, the
  amount of the period and of the period it is compared with (`period.previous()`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Income:
    currency: str
    now: int
    before: int


IncomeSource = Callable[..., Iterable[Income]]  # (period, series) -> Income per currency

_sections: list[str] = []
_income: list[IncomeSource] = []


def register_section(template_name: str) -> None:
    if template_name not in _sections:
        _sections.append(template_name)


def register_income(source: IncomeSource) -> None:
    if source not in _income:
        _income.append(source)


def sections() -> tuple[str, ...]:
    return tuple(_sections)


def has_income() -> bool:
    """Whether any app sells otherwise than by DM (then the headline shows those sales)."""
    return bool(_income)


def income(period, series=None) -> list[Income]:
    """Every source's income in the period and the one before, one entry per source and
    currency (each source's cost: its own queries, one for payments/)."""
    return [entry for source in _income for entry in source(period, series)]
