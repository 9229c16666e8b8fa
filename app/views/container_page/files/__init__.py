"""Parts of the Files tab (:mod:`app.views.container_page.files_tab`): its table model and the
words it uses for errors."""
