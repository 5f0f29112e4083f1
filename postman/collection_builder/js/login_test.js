const body = pm.response.json();
pm.test("message, token (access) and refresh", () => {
    pm.expect(body.message).to.be.a("string");
    pm.expect(body.token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh).to.be.a("string").and.not.empty;
});
pm.test("sets the userAuthToken cookie to the access token", () => {
    pm.expect(pm.cookies.has("userAuthToken"), "userAuthToken cookie").to.be.true;
    pm.expect(pm.cookies.get("userAuthToken")).to.eql(body.token);
});
pm.test("the cookie is httpOnly", () => {
    const header = pm.response.headers.all()
        .filter((h) => h.key.toLowerCase() === "set-cookie" && h.value.startsWith("userAuthToken="))
        .map((h) => h.value).join("; ");
    pm.expect(header.toLowerCase()).to.include("httponly");
});
pm.collectionVariables.set("__TOKEN_VAR__", body.token);
pm.collectionVariables.set("__REFRESH_VAR__", body.refresh);
