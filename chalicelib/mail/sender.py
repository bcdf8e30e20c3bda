"""Send email over SMTP: any server in production, the local stack's sink locally."""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from chalicelib.mail.messages import OutgoingEmail
from chalicelib.settings import Settings


class MailNotConfiguredError(RuntimeError):
    """SMTP_HOST is not set, so no email can be sent."""


class MailSendError(RuntimeError):
    """The SMTP server could not be reached or refused the message (worth retrying)."""


class Mailer(Protocol):
    """Anything that can send an `OutgoingEmail`."""

    def send(self, email: OutgoingEmail) -> None:
        """Send `email`; raises `MailSendError` when it could not be handed over."""
        ...


class SmtpMailer:
    """The real mailer: one SMTP connection per message, bounded by a timeout."""

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise MailNotConfiguredError("set SMTP_HOST (and SMTP_PORT) to send email")
        self._settings = settings

    def send(self, email: OutgoingEmail) -> None:
        """Send `email` through the configured SMTP server."""
        import smtplib
        from email.message import EmailMessage

        settings = self._settings
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = ", ".join(email.to)
        message["Subject"] = email.subject
        if email.message_id is not None:
            message["Message-ID"] = f"<{email.message_id}@longhaul>"
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        try:
            with smtplib.SMTP(
                settings.smtp_host or "",
                settings.smtp_port,
                timeout=settings.backend_timeout_seconds,
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailSendError(f"{type(exc).__name__}: {exc}") from exc


@lru_cache(maxsize=4)
def mailer(settings: Settings) -> Mailer:
    """The mailer for `settings` (SMTP)."""
    return SmtpMailer(settings)
