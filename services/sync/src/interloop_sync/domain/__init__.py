"""Pure sync domain: webhook verification, normalisation, field mapping, identity, automations, credentials.

Nothing in this package does I/O; the service's app.py wires it to PostgreSQL, Kafka and the vendor adapters.
"""
