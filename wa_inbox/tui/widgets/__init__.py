"""One widget family a module."""
