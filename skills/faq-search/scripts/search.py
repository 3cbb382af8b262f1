"""Query the FAQ index and print the best matches as JSON."""

import json
import os
import sys
import urllib.parse
import urllib.request

BASE = "https://faq.example.com/api/search"


def main() -> None:
    query = " ".join(sys.argv[1:])
    url = f"{BASE}?index={os.environ['FAQ_INDEX']}&q={urllib.parse.quote(query)}"
    request = urllib.request.Request(url, headers={"X-Api-Key": os.environ["FAQ_API_KEY"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        hits = json.load(response)["hits"][:3]
    print(json.dumps(hits, indent=2))


if __name__ == "__main__":
    main()
