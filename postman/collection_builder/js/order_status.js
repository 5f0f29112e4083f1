pm.test("order status is __STATUS__ (__LABEL__)", () => {
    const body = pm.response.json();
    pm.expect(body.orderStatus.status).to.eql("__STATUS__");
    pm.expect(body.orderStatus.label).to.eql("__LABEL__");
    pm.expect(body.orderStatus.createdAt).to.be.a("string");
    pm.expect(body.history).to.be.an("array").and.not.empty;
});
