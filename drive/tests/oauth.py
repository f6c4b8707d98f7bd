"""Driving the real OAuth pages against the fake Google: start a connect, come back with a code."""
from urllib.parse import parse_qs, urlparse


def begin(client, fake_google):
    """POST the connect button; returns the query of the authorize URL it redirects to."""
    response = client.post("/login/google-oauth2/")
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == fake_google.url + "/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def connect(client, fake_google, email):
    """The whole connect: begin, then the callback with a fresh code for `email`."""
    params = begin(client, fake_google)
    code = fake_google.issue_code(email)
    response = client.get("/complete/google-oauth2/", {"state": params["state"], "code": code})
    return params, response
