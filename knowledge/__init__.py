"""Policy knowledge: load documents, chunk them by headings, embed, index, and search with citations."""
