"""The exceptions the client raises; every failure is an AffinityError.

ConfigError: the client was set up wrongly (a TLS file missing, a certificate
without its key, a malformed address); raised by Client() before any call.
ServerUnreachable: no connection to the address (nothing listening, a wrong
port, a TLS mismatch); the message names the address and what to check.
AffinityError itself: the server answered with an error; `code` is the gRPC
status name ("INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED", ...) and
`details` the server's message, which names the field at fault.
"""


class AffinityError(Exception):
    def __init__(self, code, details):
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


class ConfigError(AffinityError, ValueError):
    def __init__(self, details):
        super().__init__("INVALID_ARGUMENT", details)
        self.args = (details,)

    def __str__(self):
        return self.details


class ServerUnreachable(AffinityError, ConnectionError):
    def __init__(self, details):
        super().__init__("UNAVAILABLE", details)
        self.args = (details,)

    def __str__(self):
        return self.details


# What gRPC says when the channel never reached a server (as opposed to a
# server's own UNAVAILABLE, e.g. "no model loaded yet").
_CONNECT_FAILURES = (
    "failed to connect to all addresses",
    "connection refused",
    "dns resolution failed",
    "socket closed",
    "handshake failed",
    "ssl_error",
    "connection reset",
    "empty address list",
    "name resolution",
)


def is_connect_failure(details):
    text = (details or "").lower()
    return any(marker in text for marker in _CONNECT_FAILURES)
