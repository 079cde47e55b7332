"""The service on the web, with Flask: the blueprints (API, OGC API, downloads, pages), error pages and problem
answers, and the nginx front. Views take the app's services from :mod:`service.web.context` and the answers from
:mod:`service.api`; :mod:`service.app` puts them together."""
