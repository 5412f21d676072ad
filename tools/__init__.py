"""Back-office domain: people, leave, expenses, helpdesk, approvals, audit, and the tool pipeline."""
