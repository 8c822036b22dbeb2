// App: implementation arrives in its own commits.
