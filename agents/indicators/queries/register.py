"""SQL of the security register (table ``security_register``, migration 040)."""

#: the current version of every entry
CURRENT = "SELECT * FROM security_register WHERE valid_to IS NULL ORDER BY system"

#: the versions in force at a time (%(at)s), one per system
AS_OF = """SELECT * FROM security_register
           WHERE valid_from <= %(at)s AND (valid_to IS NULL OR valid_to > %(at)s) ORDER BY system"""

#: every version of one system, newest first (the audit trail)
HISTORY = "SELECT * FROM security_register WHERE system = %(system)s ORDER BY valid_from DESC, id DESC"

#: every version changed in a period, newest first
CHANGES = """SELECT * FROM security_register
             WHERE (valid_from >= %(since)s AND valid_from < %(until)s)
                OR (valid_to >= %(since)s AND valid_to < %(until)s AND retired_by IS NOT NULL)
             ORDER BY valid_from DESC, id DESC"""

#: users and whether they may still act (the on-site force names users)
USER_STATES = "SELECT name, NOT disabled AS active FROM users"

#: users and whether they could act at a time (%(at)s): created by then, and not disabled by the last
#: ``user_disabled`` / ``user_enabled`` audit event before it
USER_STATES_AT = """SELECT u.name, NOT coalesce(
                           (SELECT e.kind = 'user_disabled' FROM auth_event e
                             WHERE e.subject = u.name AND e.kind IN ('user_disabled', 'user_enabled') AND e.at <= %(at)s
                             ORDER BY e.at DESC, e.id DESC LIMIT 1), false) AS active
                    FROM users u WHERE u.created_at <= %(at)s"""

#: the retirements of a period with their reasons (the audit event, written in the retiring transaction)
RETIREMENTS = """SELECT at, actor, subject, detail->>'reason' AS reason FROM auth_event
                 WHERE kind = 'register_retired' AND at >= %(since)s AND at < %(until)s ORDER BY at"""
