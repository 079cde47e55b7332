"""The service's domain answers, framework-free: no Flask, no werkzeug (a test checks this); service.web serves them."""
