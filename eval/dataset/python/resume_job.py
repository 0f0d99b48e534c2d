"""Resume import jobs from the state a worker uploaded."""

import base64
import pickle

from flask import Flask, request

app = Flask(__name__)


@app.post("/jobs/resume")
def resume_job():
    state = pickle.loads(base64.b64decode(request.form["state"]))
    job_id = state["job_id"]
    return {"resumed": job_id}
