"""Alerts: always logged; also POSTed as JSON to a webhook and e-mailed when those are configured; each one
recorded in monitoring.alerts.

Two kinds: `task_failed` (on_failure_alert, every task's on_failure_callback) and `channel_stale` (health_check's
freshness check, once per silence).

- Webhook: the `alert_webhook` connection (its host, or its `extra.url`), or ALERT_WEBHOOK_URL. A plain urllib
  POST (no HttpHook, so no HTTP provider is needed) with a short timeout.
- E-mail: through the SMTP provider's SmtpHook, to the server of the `alert_smtp` connection (conn_type smtp:
  host, port, login, password; extra e.g. {"from_email": ..., "disable_tls": true, "disable_ssl": true,
  "timeout": 10}; AIRFLOW_CONN_ALERT_SMTP works too), for the recipients of the run-time setting
  `alert_email_to` (Airflow Variable, else ALERT_EMAIL_TO; comma-separated). Without both, no e-mail.
- Record: one row in monitoring.alerts per alert with where it was delivered, when a warehouse is configured
  (an alert never starts the embedded warehouse).

An alert that cannot be delivered or recorded is logged as a warning and never fails anything else. Secrets
are never logged nor e-mailed (the e-mail goes through Airflow's secrets masker).
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from medical_telegram import connections, warehouse
from medical_telegram.orchestration import settings

log = logging.getLogger("medical_telegram.alerts")

SMTP_CONN_ID = connections.ALERT_SMTP
EMAIL_TO_SETTING = "alert_email_to"
SUBJECT_PREFIX = "[medical-telegram]"
DEFAULT_FROM = "medical-telegram@localhost"

_email_off_logged = False


def webhook_url() -> str | None:
    if (conn := connections.airflow_connection(connections.ALERT_WEBHOOK)) is not None:
        url = (conn.extra_dejson or {}).get("url") or conn.host
        if url:
            return url if "://" in url else f"{conn.conn_type or 'https'}://{url}"
    return os.environ.get("ALERT_WEBHOOK_URL") or None


def alert_payload(context) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    return {
        "event": "task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(exception).__name__}: {exception}"[:500] if exception else None,
    }


def post_json(url: str, payload: dict, timeout: float = 5.0) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
        return response.status


# --- e-mail -------------------------------------------------------------------------------------------------

def email_recipients() -> list[str]:
    value = settings.RunSettings.read(EMAIL_TO_SETTING).alert_email_to
    return [address.strip() for address in re.split(r"[,;]", value) if address.strip()]


def _smtp_connection():
    """The `alert_smtp` connection, or None when there is none."""
    return connections.airflow_connection(SMTP_CONN_ID)


def _email_off(why: str) -> None:
    global _email_off_logged
    if not _email_off_logged:
        log.debug("alert e-mail is off: %s", why)
        _email_off_logged = True


def mask(text: str) -> str:
    """The text with every secret Airflow knows of (connection passwords among them) replaced by ***."""
    try:
        from airflow.sdk.log import redact
    except ImportError:  # an older task SDK
        try:
            from airflow.sdk.execution_time.secrets_masker import redact
        except ImportError:
            return text
    try:
        return str(redact(text))
    except Exception:
        return text


def send_email(subject: str, body: str) -> bool:
    """E-mail a plain-text alert to `alert_email_to` through the `alert_smtp` server; True when it was sent.

    The SmtpHook opens the connection (SSL or STARTTLS as its extras say, login when one is set, its timeout);
    the message is a text/plain one of our own (the hook's send_email_smtp only sends HTML bodies).
    """
    recipients = email_recipients()
    if not recipients:
        _email_off(f"no recipients ({EMAIL_TO_SETTING} is not set)")
        return False
    conn = _smtp_connection()
    if conn is None:
        _email_off(f"no {SMTP_CONN_ID} connection")
        return False
    try:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        extra = conn.extra_dejson or {}
        sender = extra.get("from_email") or (conn.login if conn.login and "@" in conn.login else DEFAULT_FROM)
        message = EmailMessage()
        message["Subject"] = mask(subject)
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message.set_content(mask(body))
        with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
            client = getattr(hook, "_smtp_client", None)
            if client is None:
                raise RuntimeError("the SMTP hook opened no connection")
            refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
        if refused:
            log.warning("alert e-mail refused for %d of %d recipients", len(refused), len(recipients))
        log.info("alert e-mailed to %d recipient(s) via %s", len(recipients) - len(refused or {}), SMTP_CONN_ID)
        return len(refused or {}) < len(recipients)
    except Exception as exc:  # an alert must never raise
        log.warning("alert e-mail via %s failed: %s: %s", SMTP_CONN_ID, type(exc).__name__, mask(str(exc))[:300])
        return False


# --- delivery and record ------------------------------------------------------------------------------------

def deliver(subject: str, body: str, payload: dict) -> list[str]:
    """Send an alert (already logged) to the webhook and by e-mail; returns where it went, "log" first."""
    delivered = ["log"]
    url = webhook_url()
    if url:
        try:
            status = post_json(url, payload)
            log.info("alert sent to the webhook (HTTP %s)", status)
            delivered.append("webhook")
        except Exception as exc:  # an alert must never raise
            log.warning("alert webhook failed: %s", exc)
    if send_email(subject, body):
        delivered.append("email")
    return delivered


def _warehouse_configured() -> bool:
    """Whether a warehouse is configured: an alert records itself there, and never starts the embedded
    server to do so."""
    try:
        return warehouse.configured_dsn() is not None
    except Exception:  # a malformed connection: the alert still goes out
        return False


_INSERT = """insert into monitoring.alerts (kind, subject, detail, delivered, dedup_key)
             values (%s, %s, %s, %s, %s)"""


def record_alert(kind: str, subject: str, detail: str, delivered: list[str], dedup_key: str | None = None) -> bool:
    """Insert the alert into monitoring.alerts on its own connection; True when it was recorded."""
    if not _warehouse_configured():
        log.debug("no warehouse configured: the alert is not recorded")
        return False
    try:
        with warehouse.connect(migrated=True) as conn:
            conn.execute(_INSERT + " on conflict (dedup_key) do nothing",
                         (kind, mask(subject), mask(detail), delivered, dedup_key))
            conn.commit()
        return True
    except Exception as exc:  # recording must never fail the alert
        log.warning("could not record the alert in monitoring.alerts: %s", mask(str(exc))[:300])
        return False


def failure_subject(payload: dict) -> str:
    task = payload["task_id"]
    if payload.get("map_index") not in (None, -1):
        task = f"{task}[{payload['map_index']}]"
    return f"{SUBJECT_PREFIX} {payload['dag_id']}.{task} failed (try {payload['try_number']})"


def _log_url(context) -> str | None:
    ti = context.get("task_instance") or context.get("ti")
    try:
        url = getattr(ti, "log_url", None)  # a property on Airflow 3's RuntimeTaskInstance; may need config
    except Exception:
        url = None
    return url if isinstance(url, str) and url else None


def failure_body(payload: dict, log_url: str | None) -> str:
    lines = [
        "A task of the medical-telegram pipeline failed.",
        "",
        f"dag:   {payload['dag_id']}",
        f"task:  {payload['task_id']}",
    ]
    if payload.get("map_index") not in (None, -1):
        lines.append(f"map:   {payload['map_index']}")
    lines += [
        f"run:   {payload['run_id']}",
        f"try:   {payload['try_number']}",
        f"error: {payload['error']}",
    ]
    if log_url:
        lines.append(f"log:   {log_url}")
    return "\n".join(lines) + "\n"


def on_failure_alert(context) -> None:
    """The on_failure_callback of every task. Never raises."""
    try:
        payload = alert_payload(context)
    except Exception as exc:
        log.warning("could not build the alert: %s", exc)
        return
    log.error("ALERT %(dag_id)s.%(task_id)s failed (run %(run_id)s, try %(try_number)s): %(error)s", payload)
    try:
        subject = failure_subject(payload)
        body = failure_body(payload, _log_url(context))
        delivered = deliver(subject, body, payload)
        record_alert("task_failed", subject, body, delivered)
    except Exception as exc:  # an alert must never raise
        log.warning("alert delivery failed: %s", exc)


# --- stale channels -----------------------------------------------------------------------------------------

def stale_channel_alert(conn, fresh) -> list[str] | None:
    """Alert once per silence that a channel which usually posts daily has gone quiet.

    `fresh` is a freshness.ChannelFreshness. The alert's row is inserted first, keyed
    channel_stale:<channel>:<its last post>; only when that insert happened is the alert sent (and the row's
    `delivered` updated), so each silence alerts once however often the check runs. Returns where it went,
    or None when this silence had been alerted already (or could not be recorded: then nothing is sent,
    rather than the same alert every 15 minutes). Never raises.
    """
    last_post = fresh.last_post_iso
    dedup_key = f"channel_stale:{fresh.channel}:{last_post}"
    subject = f"{SUBJECT_PREFIX} channel {fresh.channel} silent for {fresh.silent_hours:.0f} h"
    body = ("A channel that usually posts daily has gone quiet.\n\n"
            f"channel:      {fresh.channel}\n"
            f"last post:    {last_post}\n"
            f"silent:       {fresh.silent_hours:.1f} h\n"
            f"last scrape:  {fresh.as_dict()['last_scrape'] or 'never'}\n"
            f"active share: {fresh.active_share:.0%} of the {fresh.window_days} days before its last post\n")
    payload = {"event": "channel_stale", "channel": fresh.channel, "last_post": last_post,
               "silent_hours": fresh.silent_hours, "active_share": fresh.active_share}
    delivered = alert_once(conn, "channel_stale", dedup_key, subject, body, payload)
    if delivered is None:
        log.info("%s is still silent since %s: already alerted (or not recordable)", fresh.channel, last_post)
    return delivered


def alert_once(conn, kind: str, dedup_key: str, subject: str, body: str, payload: dict) -> list[str] | None:
    """Record the alert in monitoring.alerts under `dedup_key`, and send it only when that row is new: each
    event (a silence, one run's losses) alerts once however often it is seen, retries included. Returns where
    it went, or None when it had been alerted already or could not be recorded. Never raises."""
    try:
        row = conn.execute(_INSERT + " on conflict (dedup_key) do nothing returning alert_id",
                           (kind, mask(subject), mask(body), ["log"], dedup_key)).fetchone()
        conn.commit()
    except Exception as exc:
        log.warning("could not record the %s alert, so it is not sent: %s", kind, exc)
        _rollback(conn)
        return None
    if row is None:
        return None
    log.warning("ALERT %s", subject)
    delivered = deliver(subject, body, payload)
    try:
        conn.execute("update monitoring.alerts set delivered = %s where alert_id = %s", (delivered, row[0]))
        conn.commit()
    except Exception as exc:
        log.warning("could not update the %s alert's delivery: %s", kind, exc)
        _rollback(conn)
    return delivered


def _rollback(conn) -> None:
    try:
        conn.rollback()
    except Exception:
        pass


def losses_alert(conn, what: str, counts: dict, max_share: float, run_id: str | None) -> list[str] | None:
    """Alert when a load quarantined more than `max_share` of the records it read, or a scrape gave up photos
    (`counts`: rows_in, quarantined, photos_given_up). Below the share the loss is counted, and shown, only."""
    read, quarantined, given_up = counts.get("rows_in", 0), counts.get("quarantined", 0), \
        counts.get("photos_given_up", 0)
    over = read > 0 and quarantined > max_share * read
    if not over and not given_up:
        return None
    lines = []
    if over:
        lines.append(f"{quarantined} of {read} records read were quarantined ({quarantined / read:.1%}, more"
                     f" than the {max_share:.0%} allowed by quarantine_alert_share); each is under the lake's"
                     " quarantine/ folder beside a note saying why")
    if given_up:
        lines.append(f"{given_up} photo(s) failed in {counts.get('photo_attempts', 3)} runs and were given up:"
                     " their posts are in the lake without them (the scrape task's log names each)")
    subject = f"{SUBJECT_PREFIX} {what}: data lost ({'; '.join(lines)[:80]}...)"
    body = f"{what} (run {run_id}):\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    payload = {"event": "data_lost", "what": what, "run_id": run_id, **counts}
    return alert_once(conn, "data_lost", f"data_lost:{what}:{run_id}", subject, body, payload)
