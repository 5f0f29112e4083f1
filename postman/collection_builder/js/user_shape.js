pm.test("a user representation, never the password", () => {
    const user = __EXPR__;
    pm.expect(user).to.include.all.keys(["id", "firstName", "lastName", "email", "role", "createdAt"]);
    pm.expect(user.id).to.be.a("string");
    pm.expect(JSON.stringify(user).toLowerCase()).not.to.include("password");
});
