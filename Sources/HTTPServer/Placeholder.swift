// HTTPServer: implementation arrives in its own commits.
