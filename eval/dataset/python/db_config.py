"""Database connection settings for the reporting job."""

import os

import psycopg

DB_HOST = os.environ.get("REPORT_DB_HOST", "localhost")
DB_USER = "report"
DB_PASSWORD = "changeme"


def connect() -> psycopg.Connection:
    return psycopg.connect(host=DB_HOST, user=DB_USER, password=DB_PASSWORD, dbname="reports")
