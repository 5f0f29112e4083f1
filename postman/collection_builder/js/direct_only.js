// Health, readiness, docs, admin and /internal are not routed by the ingress: only direct runs.
if (pm.environment.get("viaIngress") === "true") { pm.execution.skipRequest(); }
