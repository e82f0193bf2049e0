"""Parses Prometheus text exposition (read from standard input) with the Prometheus project's
own Python parser (PyPI's prometheus_client, pinned in tests/metrics/requirements.txt), so the
server's /metrics is judged by a parser that is not the code under test.

Prints JSON: {"families": {name: {"type": ..., "help": ..., "samples": [[name, labels, value], ...]}}}
and exits non-zero, with the parser's words, on anything it cannot parse.
"""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
families = {}
for family in text_string_to_metric_families(text):
    families[family.name] = {
        "type": family.type,
        "help": family.documentation,
        "samples": [
            [s.name, s.labels, "+Inf" if math.isinf(s.value) else s.value]
            for s in family.samples
        ],
    }
print(json.dumps({"families": families}))
