"""Operations: backups (and, beside them, health checks)."""
