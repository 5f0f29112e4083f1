pm.test("error body is {message, code, errors}", () => {
    const body = pm.response.json();
    pm.expect(body.message, "message").to.be.a("string").and.not.empty;
    pm.expect(body.code, "code").to.be.a("string").and.not.empty;
    pm.expect(body.errors, "errors").to.be.an("object");
});
