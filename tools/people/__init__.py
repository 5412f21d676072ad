"""The people slice of the back-office domain."""
