"""Anonymous usage statistics: events in, charts out."""
