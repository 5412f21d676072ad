"""Policy questions: the tool that answers from the knowledge base, through a port."""
