"""An in-memory mailer for unit tests."""

from __future__ import annotations

from chalicelib.mail.messages import OutgoingEmail
from chalicelib.mail.sender import MailSendError


class RecordingMailer:
    """Keeps every sent email; fails the next `fail_next` sends with `MailSendError`."""

    def __init__(self, fail_next: int = 0) -> None:
        self.sent: list[OutgoingEmail] = []
        self.fail_next = fail_next

    def send(self, email: OutgoingEmail) -> None:
        """Record `email`, or fail while `fail_next` is positive."""
        if self.fail_next > 0:
            self.fail_next -= 1
            raise MailSendError("the fake SMTP server refused the message")
        self.sent.append(email)
