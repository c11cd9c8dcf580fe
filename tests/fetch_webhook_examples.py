"""Fetch the webhook examples GitHub's SDK publishes (octokit, npm package
@octokit/webhooks-examples) into the cache, once: tests/webhook_examples.rs reads them.

Usage: python3 tests/fetch_webhook_examples.py  (prints the folder)
"""
import io
import os
import sys
import tarfile
import urllib.request

VERSION = "7.6.1"
URL = f"https://registry.npmjs.org/@octokit/webhooks-examples/-/webhooks-examples-{VERSION}.tgz"
cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
target = os.path.join(cache, "pipelake-fixtures", f"octokit-webhooks-examples-{VERSION}")
index = os.path.join(target, "api.github.com", "index.json")
if not os.path.exists(index):
    data = urllib.request.urlopen(URL, timeout=60).read()
    partial = target + ".partial"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/api.github.com/")]
        for m in members:
            m.name = m.name[len("package/"):]
        try:
            tar.extractall(partial, members=members, filter="data")
        except TypeError:  # Python before 3.11.4: no filters (the names were checked above)
            tar.extractall(partial, members=members)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    os.replace(partial, target)
print(target)
sys.exit(0 if os.path.exists(index) else 1)
