const attempt = Number(pm.collectionVariables.get("__VAR__") || 0);
const done = (() => { try { return __DONE__; } catch (e) { return false; } })();
if (!done && attempt + 1 < __TRIES__) {
    pm.collectionVariables.set("__VAR__", attempt + 1);
    pm.execution.setNextRequest(pm.info.requestName);
    return;
}
pm.collectionVariables.set("__VAR__", 0);
pm.test("reached within __TRIES__ tries (__SECONDS__ s)", () => pm.expect(done, "waited " + (attempt + 1) + " times; last body: " + pm.response.text()).to.be.true);
__THEN__
