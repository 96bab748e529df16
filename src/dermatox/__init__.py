"""Dermatox: a clinical system for hair-loss and acne clinics."""

__version__ = "0.1.0"
