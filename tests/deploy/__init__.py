"""Checks of what ships: images, docker-compose.yml and k8s/, statically and as processes."""
