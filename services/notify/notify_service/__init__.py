"""The notify service: webhooks (which events go where) and their signed deliveries."""
