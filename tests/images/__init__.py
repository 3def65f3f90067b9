"""Test images built in Python (no Docker daemon): :mod:`tests.images.builder` writes
docker-archive / OCI images from layer recipes; :mod:`tests.images.corrupt` makes hostile
variants of them."""
