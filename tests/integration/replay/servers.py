# tests/integration/replay/servers.py - the live servers test_replay.sh
# records sessions with and replays them against (run with Debian's
# /usr/bin/python3, inside the test's server namespace).
#
#   servers.py http  IP PORT LOG    HTTP/1.1 keep-alive; GET /page/N answers
#                                   N*37 bytes, /chunked/N the same chunked
#   servers.py echo  IP PORT LOG    line echo ("echo: LINE")
#   servers.py smtp  IP PORT LOG    aiosmtpd (Debian python3-aiosmtpd), logging
#                                   every command and message
# Every request / command / line is appended to LOG as it is handled.
import socket
import socketserver
import sys
import threading

mode, ip, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
lock = threading.Lock()
fam = socket.AF_INET6 if ":" in ip else socket.AF_INET


def note(line):
    with lock, open(log, "a") as fh:
        fh.write(line + "\n")


def body(n):
    return bytes((ord("a") + (i % 26)) for i in range(n * 37))


class Srv(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    address_family = fam


if mode == "http":
    from http.server import BaseHTTPRequestHandler

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            n = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 1
            b = body(n)
            self.send_response(200)
            # fixed headers: a replay must get the same bytes back
            self.send_header("Content-Type", "application/octet-stream")
            if parts[0] == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(b), 100):
                    c = b[i:i + 100]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)
            self.wfile.flush()
            note("%s %s" % (self.command, self.path))

        def date_time_string(self, timestamp=None):
            return "Mon, 23 Nov 2026 00:00:00 GMT"

        def version_string(self):
            return "replay-test/1"

    Srv((ip, port), H).serve_forever()

elif mode == "echo":
    class E(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(b"echo: " + line)
                self.wfile.flush()
                note(line.decode(errors="replace").rstrip("\r\n"))

    Srv((ip, port), E).serve_forever()

elif mode == "smtp":
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            note("MESSAGE from=%s to=%s" % (envelope.mail_from, ",".join(envelope.rcpt_tos)))
            for l in envelope.content.decode(errors="replace").splitlines():
                note("| " + l)
            return "250 Message accepted for delivery"


    async def main():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(
            lambda: SMTP(Handler(), hostname="replay.test", ident="replay-test SMTP"),
            host=ip, port=port, reuse_address=True)
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())
else:
    sys.exit("unknown mode " + mode)
