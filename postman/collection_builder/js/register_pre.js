if (!pm.collectionVariables.get("runId")) {
    const guid = pm.variables.replaceIn("{{$guid}}").slice(0, 8);
    pm.collectionVariables.set("runId", pm.variables.replaceIn("{{$timestamp}}") + "-" + guid);
}
pm.collectionVariables.set("password", "__PASSWORD__");
pm.collectionVariables.set("__WHO__Email", "__WHO__-" + pm.collectionVariables.get("runId") + "@example.com");
