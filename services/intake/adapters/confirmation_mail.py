"""Confirmation requests by email (SMTP, blocking: sent off the event loop). The text
says plainly what a click does, in the supporter's language where plume has it."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from services.intake.domain.confirmations import Mail

TEXTS = {
    "en": (
        "Please confirm your signature for {case}",
        "You signed for {case}. Your signature counts once you confirm it:\n\n{link}\n\n"
        "The page that opens has a button to confirm. If you did not sign, ignore this "
        "email: the signature is erased in a few days.",
    ),
    "fr": (
        "Merci de confirmer votre signature pour {case}",
        "Vous avez signé pour {case}. Votre signature compte dès que vous la confirmez :\n\n"
        "{link}\n\nLa page qui s'ouvre a un bouton pour confirmer. Si vous n'avez pas signé, "
        "ignorez ce message : la signature sera effacée dans quelques jours.",
    ),
}


def confirmation_message(mail: Mail, link: str, case_name: str, sender: str) -> EmailMessage:
    subject, body = TEXTS.get(mail.language, TEXTS["en"])
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.email
    message["Subject"] = subject.format(case=case_name)
    # A retry after a crash sends the same Message-ID: mail systems may drop the repeat.
    message["Message-ID"] = f"<confirm-{mail.action_id}@plume>"
    message.set_content(body.format(case=case_name, link=link))
    return message


class SmtpConfirmationMailer:
    def __init__(self, host: str, port: int, sender: str, timeout: float) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    async def send(self, mail: Mail, link: str, case_name: str) -> None:
        message = confirmation_message(mail, link, case_name, self.sender)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPException as exc:
            raise OSError(f"SMTP refused the confirmation request: {type(exc).__name__}") from exc
