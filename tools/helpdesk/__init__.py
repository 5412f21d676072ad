"""The helpdesk slice of the back-office domain."""
