"""Networks, read side: the latest state of every link and of every system's IPv6 readiness
(``network_state``, judged by ``agents.indicators.network``)."""

#: the wall's links and IPv6 checks
STATES = "SELECT * FROM network_state"
