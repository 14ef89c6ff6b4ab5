"""Pure sync domain: the common hiring model, what every vendor's webhook verification and normalisation
share (each vendor's own scheme lives with its adapter in ``vendors/``), field mapping, identity,
automations, credentials.

Nothing in this package does I/O; the service's app.py wires it to PostgreSQL, Kafka and the vendor adapters.
"""
