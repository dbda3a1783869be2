"""The api process: webhooks, the REST API (/v1, OpenAPI at /docs) and the web chat."""
