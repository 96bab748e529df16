"""The machine edge: REST (OpenAPI) for the records the UI manages. Thin: it calls services and selectors and
maps the one error hierarchy to one error shape."""
