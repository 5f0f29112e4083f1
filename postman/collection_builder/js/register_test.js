const body = pm.response.json();
pm.test("message and the new user (role user, email as given)", () => {
    pm.expect(body.message).to.be.a("string").and.not.empty;
    pm.expect(body.user.email).to.eql(pm.collectionVariables.get("__WHO__Email"));
    pm.expect(body.user.firstName).to.eql("__FIRST__");
    pm.expect(body.user.role).to.eql("user");
});
pm.collectionVariables.set("__WHO__Id", body.user.id);
