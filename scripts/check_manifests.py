#!/usr/bin/env python3
"""Asserts the properties of the rendered Kubernetes manifests that schemas cannot express
(run by scripts/check-deploy on `kubectl kustomize deploy/kubernetes/overlays/<env>`).
Usage: check_manifests.py RENDERED.yaml ENV"""
import sys

import yaml

path, env = sys.argv[1], sys.argv[2]
with open(path) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
kinds = {}
for d in docs:
    kinds.setdefault(d["kind"], []).append(d)
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Secret",
             "NetworkPolicy", "ServiceAccount"]:
    need(kind in kinds, f"no {kind}")
if not errors:
    for d in docs:
        need(d["metadata"].get("namespace") == f"agentstate-{env}", f"{d['kind']} not in namespace agentstate-{env}")
    dep = kinds["Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env_vars = kinds["ConfigMap"][0]["data"]
    grace = int(env_vars.get("AGENTSTATE_SHUTDOWN_GRACE", "25"))
    pre_stop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
    need(pod["terminationGracePeriodSeconds"] > grace + pre_stop,
         f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} must exceed --shutdown-grace {grace} + preStop {pre_stop}")
    need(c["startupProbe"]["httpGet"]["path"] == "/healthz", "startupProbe must GET /healthz")
    need(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "livenessProbe must GET /healthz")
    need(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readinessProbe must GET /readyz")
    sc = c["securityContext"]
    need(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
         and sc.get("runAsNonRoot") is True and sc["capabilities"]["drop"] == ["ALL"]
         and sc["seccompProfile"]["type"] == "RuntimeDefault", f"container securityContext: {sc}")
    need(all(k in c["resources"].get(t, {}) for t in ("requests", "limits") for k in ("cpu", "memory")),
         "cpu and memory requests and limits")
    secret_name = kinds["Secret"][0]["metadata"]["name"]
    mounted = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == secret_name]
    need(mounted, "the Redis password Secret must be mounted as a volume")
    need(any(a.startswith("--redis-password-file=") for a in c.get("args", [])), "--redis-password-file")
    need(not any("valueFrom" in e for e in c.get("env", [])), "no secret in the environment")
    selector = dep["spec"]["selector"]["matchLabels"]
    for k in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        o = kinds[k][0]["spec"]
        sel = o.get("selector", o.get("podSelector", {}))
        sel = sel.get("matchLabels", sel)
        need(sel == selector, f"{k} selector {sel} must equal the Deployment's {selector}")
    hpa = kinds["HorizontalPodAutoscaler"][0]["spec"]
    need(hpa["scaleTargetRef"]["name"] == dep["metadata"]["name"], "HPA target")
    need(dep["spec"]["template"]["metadata"]["annotations"].get("prometheus.io/scrape") == "true", "scrape annotation")
if errors:
    for e in errors:
        print(f"error: {env}: {e}", file=sys.stderr)
    sys.exit(1)
print(f"  {env}: {len(docs)} objects; probes, grace period, securityContext, secret file, selectors ok")
