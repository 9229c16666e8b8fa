"""One QWidget per sidebar entry; each takes the AppContext (see app.context)."""
