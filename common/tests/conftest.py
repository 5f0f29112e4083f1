"""common's tests use the shared verify stand-in from ecommerce_common.testing."""
