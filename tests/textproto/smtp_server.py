# An SMTP sink from Debian's python3-aiosmtpd: EHLO, AUTH (PLAIN, LOGIN:
# any user with the password "secret"), STARTTLS with the certificate given,
# DATA.  Runs until killed.  smtp_server.py ADDR PORT CERT KEY
import asyncio, ssl, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK: queued"

def check(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.password == b"secret")

addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
c = Controller(Sink(), hostname=addr, port=port, tls_context=tls,
               authenticator=check, auth_require_tls=False)
c.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever()
finally:
    c.stop()
