"""Botulinum toxin arithmetic and rules: products, reconstitution, protocols and the plan check. Pure."""
