import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
django_application = get_wsgi_application()

from ragbase.web_server import counting_requests  # noqa: E402  (needs the app registry set up above)

# /readyz reports the requests in flight in this process.
application = counting_requests(django_application)
