"""What every command module shares: the error line and exit status, and argparse types."""

from __future__ import annotations

import argparse
import sys


def _whole(minimum: int, rule: str):
    """An argparse type: a whole number of at least `minimum` (`rule` says so to the user)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("must be a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(rule)
        return value

    return parse


_positive = _whole(1, "must be at least 1")
_non_negative = _whole(0, "must be 0 or more")


def _err(message: str, status: int = 2) -> int:
    print(f"dermatox: {message}", file=sys.stderr)
    return status
