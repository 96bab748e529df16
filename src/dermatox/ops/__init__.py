"""Operations: health check, structured logs, backups — what a deployment needs around the app."""
