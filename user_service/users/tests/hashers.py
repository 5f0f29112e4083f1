"""Argon2 with the cheapest parameters, so tests hash quickly (the algorithm stays Argon2)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1
