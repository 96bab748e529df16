from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Test-only: Argon2id with 1 MiB of memory instead of 100 MiB."""

    memory_cost = 1024
    parallelism = 1
