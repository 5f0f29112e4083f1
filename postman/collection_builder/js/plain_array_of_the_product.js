pm.test("__TEST_NAME__", () => {
    const body = pm.response.json();
    pm.expect(body).to.be.an("array");
    pm.expect(body.map((p) => p.id)).to.eql([pm.collectionVariables.get("productId")]);
});
