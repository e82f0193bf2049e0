"""A real SMTP server for the tests: aiosmtpd on loopback, keeping every message it receives.

    python smtp_sink.py FOLDER [--port N]

Prints "listening on PORT" once it accepts connections. Each message received is written to
FOLDER as one JSON file (written to a temporary name, then renamed, so a reader never sees half
of one): the envelope's recipients, the headers the tests check, the plain text and any
calendar attachment, decoded. `--port 0` (the default) picks a free port.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import time
import uuid

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text, calendar, calendar_type, attachments = None, None, None, []
        for part in message.walk():
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            if part.get_filename():
                attachments.append(part.get_filename())
            if kind == "text/plain" and text is None and not part.get_filename():
                text = part.get_content()
            elif kind == "text/calendar":
                calendar = part.get_content()
                calendar_type = part["Content-Type"]
        kept = {
            "envelope_to": list(envelope.rcpt_tos),
            "envelope_from": envelope.mail_from,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": text,
            "calendar": calendar,
            "calendar_type": calendar_type,
            "attachments": attachments,
            "raw": envelope.original_content.decode("utf-8", "replace"),
        }
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        partial = os.path.join(self.folder, name + ".part")
        with open(partial, "w", encoding="utf-8") as out:
            json.dump(kept, out)
            out.flush()
            os.fsync(out.fileno())
        os.rename(partial, os.path.join(self.folder, name + ".json"))
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    handler = Keep(args.folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.localhost", data_size_limit=10_000_000),
        host="127.0.0.1",
        port=args.port,
        reuse_address=True,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
