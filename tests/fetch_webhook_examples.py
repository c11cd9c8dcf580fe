"""Fetch published webhook examples into the cache, once; the tests read them:

- GitHub's, from its SDK (octokit, npm package @octokit/webhooks-examples): tests/webhook_examples.rs;
- GitLab's, from the test data of its Go client (go-gitlab, as Debian packages it:
  golang-github-xanzy-go-gitlab-dev), beside the first: tests/webhook_examples.rs too.

Usage: python3 tests/fetch_webhook_examples.py  (prints the GitHub folder; GitLab's is its sibling)
"""
import hashlib
import io
import lzma
import os
import sys
import tarfile
import urllib.request

VERSION = "7.6.1"
URL = f"https://registry.npmjs.org/@octokit/webhooks-examples/-/webhooks-examples-{VERSION}.tgz"
GITLAB_VERSION = "0.73.1-2"
GITLAB_URL = f"http://deb.debian.org/debian/pool/main/g/golang-github-xanzy-go-gitlab/golang-github-xanzy-go-gitlab-dev_{GITLAB_VERSION}_all.deb"
# Fetched over plain HTTP from the mirror: pinned, as apt would check it by its signed index.
GITLAB_SHA256 = "609c6948d50bd42a9f979a032d71e7ce1ff8510e456871e2a2a943fcd6ba4fa5"
GITLAB_PREFIX = "./usr/share/gocode/src/github.com/xanzy/go-gitlab/testdata/webhooks/"

cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
root = os.path.join(cache, "pipelake-fixtures")
target = os.path.join(root, f"octokit-webhooks-examples-{VERSION}")
index = os.path.join(target, "api.github.com", "index.json")


def extract(tar, members, into):
    partial = into + ".partial"
    try:
        tar.extractall(partial, members=members, filter="data")
    except TypeError:  # Python before 3.11.4: no filters (the names were checked by the caller)
        tar.extractall(partial, members=members)
    os.makedirs(os.path.dirname(into), exist_ok=True)
    os.replace(partial, into)


if not os.path.exists(index):
    data = urllib.request.urlopen(URL, timeout=60).read()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/api.github.com/")]
        for m in members:
            m.name = m.name[len("package/"):]
        extract(tar, members, target)

gitlab = os.path.join(root, f"go-gitlab-{GITLAB_VERSION}-webhooks")
if not os.path.exists(os.path.join(gitlab, "deployment.json")):
    deb = urllib.request.urlopen(GITLAB_URL, timeout=60).read()
    if hashlib.sha256(deb).hexdigest() != GITLAB_SHA256:
        sys.exit(f"{GITLAB_URL}: unexpected sha256")
    # A .deb is an ar archive: a 60-byte header per member, data padded to even length.
    pos, data = 8, None
    while pos < len(deb):
        name, size = deb[pos:pos + 16].decode().strip(), int(deb[pos + 48:pos + 58].decode().strip())
        if name.startswith("data.tar"):
            data = deb[pos + 60:pos + 60 + size]
        pos += 60 + size + size % 2
    with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data)), mode="r:") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(GITLAB_PREFIX) and m.name.endswith(".json")]
        for m in members:
            m.name = os.path.basename(m.name)
        extract(tar, members, gitlab)

print(target)
sys.exit(0 if os.path.exists(index) and os.path.exists(os.path.join(gitlab, "deployment.json")) else 1)
