"""What the sync service consumes (its own ats.application.hired, scorecard.*, interview.*,
notification.alert): consumer groups, topics and the unpacking of each event into a use case."""
