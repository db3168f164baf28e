"""Checks that the deployment files parse: compose.yaml as YAML with the services the operator
guide names, and every Dockerfile instruction is one Docker knows (no daemon needed)."""
import sys

import yaml

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}

compose = yaml.safe_load(open("compose.yaml"))
services = compose.get("services", {})
for name in ("roost", "roost-postgres", "postgres"):
    if name not in services:
        sys.exit(f"compose.yaml: no service '{name}'")
if "ROOST_DATABASE_URL" not in services["roost-postgres"].get("environment", {}):
    sys.exit("compose.yaml: roost-postgres does not set ROOST_DATABASE_URL")

continued = False
stages = 0
for number, line in enumerate(open("Dockerfile"), 1):
    text = line.strip()
    if not continued and text and not text.startswith("#"):
        word = text.split()[0].upper()
        if word not in INSTRUCTIONS:
            sys.exit(f"Dockerfile:{number}: unknown instruction '{word}'")
        stages += word == "FROM"
    continued = text.endswith("\\")
if stages < 2:
    sys.exit("Dockerfile: expected a build stage and a runtime stage")
print("compose.yaml and Dockerfile parse")
