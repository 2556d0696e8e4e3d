"""Settings, read from the environment. Every variable is listed in .env.example.

Two modes (PORTAL_ENV):
- development (default): debug on; with nothing else set, a SQLite file under var/, Celery tasks
  run in-process, e-mail goes to the console. This is what `make run` uses.
- production: debug off, a real SECRET_KEY and ALLOWED_HOSTS required, HTTPS-only cookies and HSTS;
  passes `manage.py check --deploy --fail-level WARNING`.
DATABASE_URL switches to PostgreSQL and REDIS_URL makes Redis the Celery broker and the cache, in
either mode.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from transfer_portal.proxy import client_address_settings

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

PORTAL_ENV = env.str("PORTAL_ENV", default="development")
if PORTAL_ENV not in ("development", "production"):
    raise environ.ImproperlyConfigured("PORTAL_ENV must be 'development' or 'production'")
PRODUCTION = PORTAL_ENV == "production"

DEBUG = not PRODUCTION and env.bool("DEBUG", default=True)

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    # A development-only key; production refuses to start without SECRET_KEY.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form says so in the user's language, on the portal's own page.
CSRF_FAILURE_VIEW = "transfer_portal.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Backup codes of agency staff: ten single-use codes for a lost or throttled authenticator.
    "django_otp.plugins.otp_static",
    "agencies",
    "applications",
    # Project-level management commands (readiness).
    "transfer_portal",
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before the host check and the HTTPS redirect (transfer_portal/health.py).
    "transfer_portal.health.ProbeMiddleware",
    # Our error pages: 503 when the database does not answer, and no technical page for non-staff in
    # development (transfer_portal/errors.py).
    "transfer_portal.errors.ErrorPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so only dynamic responses: Cache-Control no-store, private (transfer_portal/cache_control.py).
    "transfer_portal.cache_control.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "applications.people.middleware.ChineseUnlessChosenMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Ends a session left idle too long (applications/people/sessions.py), before anything else reads
    # the user.
    "applications.people.sessions.IdleSessionMiddleware",
    "applications.people.second_factor.AgencyStaffSecondFactorMiddleware",
    # The language kept on the account, applied from login on (applications/people/language.py).
    "applications.people.language.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses further attempts during the cool-off.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (applications/people/login_throttle.py): failures within the cool-off are counted
# per user name and address, per user name from every address, and per address for every user name, each
# with its own limit. A good login clears only its own user name's failures from its own address.
AXES_HANDLER = "applications.people.login_throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)  # one user name from one address
LOGIN_FAILURES_PER_USER_NAME = env.int("LOGIN_FAILURES_PER_USER_NAME", default=20)  # from every address
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)  # for every user name
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# A guess refused because of a lock is not counted: otherwise one locked address could go on raising a
# user name's count until the owner is locked out everywhere.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies in front of gunicorn, each appending the address it got the request from to
# X-Forwarded-For (0: none; the header is then never read). Behind a proxy it must be set, or every
# login counts against the proxy's address. transfer_portal/proxy.py turns it into django-ipware's terms.
vars().update(client_address_settings(env.int("TRUSTED_PROXY_COUNT", default=0)))

# No inline script or style anywhere: every script and stylesheet is a file the portal serves itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws a few icons (the menu button, form checks) as data: SVG in its stylesheet.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# The typed contribution table posts up to 100 rows of 11 values (plus the management form and the CSRF
# token): Django's default of 1,000 fields would refuse a full table as a bad request.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1_200

ROOT_URLCONF = "transfer_portal.urls"
WSGI_APPLICATION = "transfer_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "applications.context_processors.today",
                "applications.context_processors.unread_notifications",
                "applications.context_processors.session_timer",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction starts, so two writers wait instead of failing
    # with "database is locked" half-way (the embedded default serves several threads).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. Without Redis the tasks run in-process (the embedded default of `make run`).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
# Production delivery (docs/architecture.md): a task is acknowledged only after it ran, and a task whose
# worker died is handed back; one task at a time per process, so a long render does not hold others.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# WeasyPrint's native memory creeps up slowly (measured: 118 MiB after warm-up, 134 MiB after 1,000
# renders, docs/benchmarks.md); a fresh child process every 500 tasks keeps it flat.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 500
# Time limits and every retry delay stay below the broker's visibility timeout, or Redis would hand
# the same task to a second worker while the first still runs it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A user's request never hangs on a broker that is down: a few quick tries, then the dispatch is given up
# (after commit, logged) and the sweeper queues the pending document once the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise environ.ImproperlyConfigured(
        "CELERY_TASK_SOFT_TIME_LIMIT + 30 must stay below CELERY_VISIBILITY_TIMEOUT"
    )
# A document the broker took this long ago and still pending has lost its task (a broker restarted empty,
# a worker killed); the sweeper queues it again.
DOCUMENT_STUCK_AFTER_SECONDS = env.int("DOCUMENT_STUCK_AFTER_SECONDS", default=CELERY_TASK_TIME_LIMIT * 2)
# A document whose task never reached the broker (it was down at commit) is queued by the next sweep once
# the dispatch after commit has had this long (a few tries of CELERY_TASK_PUBLISH_RETRY_POLICY).
DOCUMENT_DISPATCH_GRACE_SECONDS = env.int("DOCUMENT_DISPATCH_GRACE_SECONDS", default=15)
# Beat keeps the time each periodic task last ran in this file (one beat process per deployment).
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
# How often beat runs the sweeps of documents and of the e-mail outbox. Short, so that after a broker
# outage everything pending is done well within a minute of its return (measured in
# tests/integration/test_broker_outage_recovery.py); a sweep finding nothing costs one indexed query.
DOCUMENT_SWEEP_INTERVAL_SECONDS = env.int("DOCUMENT_SWEEP_INTERVAL_SECONDS", default=10)
EMAIL_SWEEP_INTERVAL_SECONDS = env.int("EMAIL_SWEEP_INTERVAL_SECONDS", default=10)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-documents": {
        "task": "applications.tasks.sweep_stuck_documents",
        "schedule": float(DOCUMENT_SWEEP_INTERVAL_SECONDS),
        # A sweep waiting behind a long queue of renderings is dropped: the next one is on its way.
        "options": {"expires": float(DOCUMENT_SWEEP_INTERVAL_SECONDS)},
    },
    "sweep-outbox": {
        "task": "applications.notify.sweep_outbox",
        "schedule": float(EMAIL_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(EMAIL_SWEEP_INTERVAL_SECONDS)},
    },
    "flag-overdue-cases": {"task": "applications.tasks.flag_overdue_cases", "schedule": 3600.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "社保转移接续平台"
# A password reset link works once (Django's token includes the password hash) and for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=30) * 60
# How long a link to confirm an e-mail address and an agency staff invitation stay valid.
EMAIL_CONFIRMATION_TIMEOUT = env.int("EMAIL_CONFIRMATION_DAYS", default=3) * 86_400
STAFF_INVITATION_TIMEOUT = env.int("STAFF_INVITATION_DAYS", default=7) * 86_400
# Password reset requests (cache counters: Redis in production, so every web process counts together):
# per client address (generous: an office or a mobile network puts many people behind one address) and
# per typed e-mail address / account, in a window of this many minutes.
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=20)
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env.int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", default=3)
PASSWORD_RESET_LIMIT_WINDOW = env.int("PASSWORD_RESET_LIMIT_WINDOW_MINUTES", default=60) * 60
# A session ends after this long without a request: agency staff (they see people's data across the
# country) sooner than others. The page warns SESSION_WARNING_SECONDS before the end.
SESSION_IDLE_SECONDS_AGENCY_STAFF = env.int("SESSION_IDLE_MINUTES_AGENCY_STAFF", default=30) * 60
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_MINUTES", default=120) * 60
SESSION_WARNING_SECONDS = 120
# "Keep me signed in" (insured persons and HR only): the session outlives the browser for this long.
SESSION_REMEMBER_SECONDS = env.int("SESSION_REMEMBER_DAYS", default=7) * 86_400
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded materials and rendered official documents: never under a public URL. They are served
# only by views that check who may see the case.
PRIVATE_STORAGE_DIR = Path(env.str("PRIVATE_STORAGE_DIR", default=str(VAR_DIR / "private")))
MEDIA_ROOT = PRIVATE_STORAGE_DIR

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds a mail server may take to answer before the send gives up (Django waits forever by default, and
# one hung connection would hold a worker and its outbox row until the task's time limit).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
if EMAIL_TIMEOUT >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise environ.ImproperlyConfigured("EMAIL_TIMEOUT must stay below CELERY_TASK_SOFT_TIME_LIMIT")
# The portal's own address, for links in e-mails.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@transfer-portal.invalid")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The TLS-terminating proxy in front of gunicorn tells us the original scheme. (The healthchecks call
    # plain http on the loopback: ProbeMiddleware answers them before this redirect.)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every step of every render at INFO.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
