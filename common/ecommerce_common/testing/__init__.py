"""Test support shared by every service: infrastructure helpers and pytest fixtures."""
