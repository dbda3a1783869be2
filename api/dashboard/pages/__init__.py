"""The dashboard's pages, one module per page (or family of pages), each with its own router;
api/dashboard/__init__.py install() includes them. Every query goes through the viewer's scope
(auth.Viewer); every page is drawn by templating.page()."""
