"""Page modules that register their routes on the pages blueprint (:mod:`service.pages`)."""
