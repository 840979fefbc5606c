"""``dasl serve``: the HTTP API and web page (:mod:`dasl.serve.app`)."""
