"""Small widgets shared by the views (engine state page, ...)."""
