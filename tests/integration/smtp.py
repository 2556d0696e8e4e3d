"""A mail server of the test's own (just enough SMTP for Django's backend), in a thread of the test
process, on a free port. It records each message it accepted with its recipients and Message-ID, and can
hold the end of one message's DATA without answering, so that a test kills the sender before the
message is accepted: a message whose sender vanished before "250" was never delivered."""

import email
import socketserver
import threading
import time
from dataclasses import dataclass


@dataclass
class Received:
    recipients: tuple[str, ...]
    message_id: str
    subject: str


class MailServer:
    def __init__(self):
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.hold_message = 0  # hold the DATA of the n-th message (1-based; 0: none)
        self.messages_seen = 0
        self.holding = threading.Event()
        self.dropped = 0  # messages whose sender went away before we accepted them
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self):
                self.reply("220 test mail server")
                recipients = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    command = line.decode(errors="replace").strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 test")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 ok")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 ok")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        lines = []
                        while True:
                            data = self.rfile.readline()
                            if not data:
                                with server.lock:
                                    server.dropped += 1
                                return
                            if data in (b".\r\n", b".\n"):
                                break
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        if not server.accept(tuple(recipients), b"".join(lines), self.connection):
                            return
                        self.reply("250 accepted")
                    elif verb == "RSET":
                        recipients = []
                        self.reply("250 ok")
                    elif verb == "NOOP":
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def accept(self, recipients, raw, sock) -> bool:
        """Record the message; or, for the message to hold, wait without answering until the sender goes
        away (then nothing was delivered)."""
        with self.lock:
            self.messages_seen += 1
            held = self.messages_seen == self.hold_message
        if held:
            self.holding.set()
            sock.settimeout(120)
            try:
                while sock.recv(1):  # blocks until the sender's end is closed
                    pass
            except OSError:
                pass
            with self.lock:
                self.dropped += 1
            return False
        message = email.message_from_bytes(raw)
        with self.lock:
            self.received.append(Received(recipients, message["Message-ID"], message["Subject"] or ""))
        return True

    def recipients(self) -> list[str]:
        with self.lock:
            return sorted(address for message in self.received for address in message.recipients)

    def wait_for(self, count, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return
            time.sleep(0.1)
