"""Production settings for the load run, served over plain HTTP on 127.0.0.1 (there is no TLS proxy).

Everything is `dermatox.settings.production` (DEBUG off, a secret key and allowed hosts required, the same
middleware, logging and password hashing) except the four HTTPS-only switches: with them a client on
http://127.0.0.1 would be redirected to https (SECURE_SSL_REDIRECT) and would never send back its session
and CSRF cookies (marked Secure). A real deployment keeps them on behind its TLS proxy. And mail goes
nowhere (below).
"""

from dermatox.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0

# There is no mail server on the load machine: without this, the worker beside the server retried every
# due reminder of the demo against a refused SMTP port for the whole run. Mail "sent" to nowhere costs what
# a clinic's reminders cost on the app's side, without the network.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
