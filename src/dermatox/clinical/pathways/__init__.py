"""Evidence-graded pathways for hair loss and acne: `assess(case)` (see engine.py)."""

from dermatox.clinical.pathways.case import CaseError, parse_case
from dermatox.clinical.pathways.engine import ENGINE_VERSION, assess, assess_case
from dermatox.clinical.pathways.localize import localize

__all__ = ["ENGINE_VERSION", "CaseError", "assess", "assess_case", "localize", "parse_case"]
