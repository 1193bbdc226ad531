"""The operations report, read side: the figures of a period of whole local days from the daily
rollups and day tables (parameters ``since``, ``until``: instants of local midnights)."""
from agents.indicators.queries.dossier import day_sums

#: security events per Directive 14 layer and per kind (event type)
SECURITY_BY_LAYER = """
SELECT layer, sum(events)::bigint AS events, sum(blocked)::bigint AS blocked
FROM security_day
WHERE day >= (%(since)s AT TIME ZONE %(tz)s)::date AND day < (%(until)s AT TIME ZONE %(tz)s)::date
GROUP BY layer ORDER BY layer
"""
SECURITY_BY_TYPE = """
SELECT type, sum(events)::bigint AS events, sum(blocked)::bigint AS blocked
FROM security_day
WHERE day >= (%(since)s AT TIME ZONE %(tz)s)::date AND day < (%(until)s AT TIME ZONE %(tz)s)::date
GROUP BY type ORDER BY sum(events) DESC, type
"""

#: dossiers per day, unit and level in the period
DOSSIER_DAYS = day_sums + "WHERE time >= %(since)s AND time < %(until)s GROUP BY time, unit_code, level\n"

#: citizen reports answered per agency and day in the period
CITIZEN_AGENCY_DAYS = """
SELECT agency, responded, responded_late, ratings, rating_sum, satisfied, response_minutes_hist
FROM citizen_agency_day
WHERE time >= %(since)s AND time < %(until)s
"""

#: citizen reports received in the period
CITIZEN_RECEIVED = """
SELECT coalesce(sum(received), 0)::bigint FROM citizen_day WHERE time >= %(since)s AND time < %(until)s
"""

#: each source over the period (arrival days)
SOURCES = """
SELECT source, sum(received)::bigint AS received, sum(accepted)::bigint AS accepted,
       sum(duplicates)::bigint AS duplicates, sum(rejected)::bigint AS rejected,
       max(last_arrival) AS last_arrival
FROM source_day
WHERE day >= (%(since)s AT TIME ZONE %(tz)s)::date AND day < (%(until)s AT TIME ZONE %(tz)s)::date
GROUP BY source ORDER BY source
"""
