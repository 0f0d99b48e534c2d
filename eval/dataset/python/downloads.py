"""Serve files from the shared downloads folder."""

import os

from flask import Flask, abort, request, send_file

app = Flask(__name__)
DOWNLOADS = "/srv/shared/downloads"


@app.get("/download")
def download():
    name = request.args.get("file", "")
    path = os.path.join(DOWNLOADS, name)
    if not os.path.isfile(path):
        abort(404)
    return send_file(path)
