"""The PostgreSQL backend: django-prometheus's (query metrics) with a health check that costs no round trip."""
