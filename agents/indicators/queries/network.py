"""Networks, read side: the latest state of every link and of every system's IPv6 readiness
(``network_state``, judged by ``agents.indicators.network``), and what its rules watch."""

#: the wall's links and IPv6 checks
STATES = "SELECT * FROM network_state"

#: ``network.link_down``: 1 for a link its poller reports down
LINK_DOWN = "SELECT entity, CASE WHEN up THEN 0 ELSE 1 END::float8 FROM network_state WHERE kind = 'link'"

#: ``network.link_silent_s``: seconds since a link's last poll
LINK_SILENT_S = ("SELECT entity, extract(epoch FROM now() - last_seen)::float8 FROM network_state "
                 "WHERE kind = 'link'")

#: ``network.packet_loss``: average loss over the last 5 minutes
PACKET_LOSS = """SELECT link, sum(loss_sum) / nullif(sum(loss_n), 0) FROM network_window
           WHERE time >= now() - interval '5 minutes' GROUP BY link"""

#: ``network.utilisation``: highest utilisation over the last 5 minutes
UTILISATION = """SELECT link, max(utilisation_max) FROM network_window
           WHERE time >= now() - interval '5 minutes' GROUP BY link"""

#: ``network.ipv6_ready``: 1 for a system with an AAAA record that answers over IPv6
IPV6_READY = ("SELECT entity, CASE WHEN aaaa AND reachable THEN 1 ELSE 0 END::float8 FROM network_state "
              "WHERE kind = 'system'")
