"""The leave slice of the back-office domain."""
