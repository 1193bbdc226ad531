"""The read side's SQL of every indicator family, one module per family: what the wall
(``ioc_dash.queries``, with how often it reads each) and the alert engine (``agents.alerting``)
read from the tables the worker fills.  Rows are read as dicts; each constant says its parameters.

``health``, ``sources``, ``security``, ``camera``, ``sensor``, ``dossier``, ``citizen``.
"""
