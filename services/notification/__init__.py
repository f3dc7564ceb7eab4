"""Notification microservice: V1 and V2 are this one codebase, told apart by APP_VERSION."""
