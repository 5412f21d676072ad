"""The demo company: people, holidays and sample data written for this project."""
