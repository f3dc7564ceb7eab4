"""User management microservice: users in MySQL, calling the notification service."""
