"""The expenses slice of the back-office domain."""
