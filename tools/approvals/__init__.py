"""The approvals slice of the back-office domain."""
