"""Printed documents: A4 PDFs rendered from templates with WeasyPrint (consents, plans, aftercare,
visit summaries). Imports nothing of the apps: callers pass in what to print."""
