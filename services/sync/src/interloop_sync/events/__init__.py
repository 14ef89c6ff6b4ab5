"""Events the sync service emits (ats.*, hris.*, notification.*) and consumes (its own ats.application.hired,
scorecard.*, interview.*), plus its background workers (automations, reconciliation)."""
