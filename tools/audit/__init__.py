"""The audit slice of the back-office domain."""
