"""Prometheus, for gates between batches and for exporting fleet health.

client.py       where Prometheus is (a URL or a Service through the API server) and
                its instant-query API, answers parsed into samples
promql.py       the `--analysis` expressions: built-in analyses, conditions, variables
exposition.py   Prometheus' text exposition format, written (`status -o prometheus`)
"""
