"""Run facts read from the logged training config (read as data, never executed)."""

from metrics.facts.advice import export_advice
from metrics.facts.extract import facts_for_files
from metrics.facts.model import FACT_KEYS, META_KEYS, RunFacts

__all__ = [
    "FACT_KEYS",
    "META_KEYS",
    "RunFacts",
    "export_advice",
    "facts_for_files",
]
