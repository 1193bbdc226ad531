"""The database: every connection and pool (``connect``), the translation of the driver's errors
(``errors``), versioned SQL migrations applied by ``ioc db migrate`` (``migrate``) and throw-away
databases (``scratch``)."""
