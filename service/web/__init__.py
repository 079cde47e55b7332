"""The service on the web, with Flask: blueprints, error pages and problem answers, and the nginx front.

The blueprints serve the API, the OGC API, downloads and pages. Views take the app's services from
:mod:`service.web.context` and the answers from :mod:`service.api`; :mod:`service.app` puts them together.
"""
