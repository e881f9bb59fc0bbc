"""Is the warehouse reachable and built enough to answer?"""

PING = "select 1 as ok"
