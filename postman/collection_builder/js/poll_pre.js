if (Number(pm.collectionVariables.get("__VAR__") || 0) > 0) { setTimeout(() => {}, __DELAY_MS__); }
