pm.test("an order representation", () => {
    const order = __EXPR__;
    pm.expect(order).to.include.all.keys(["id", "userId", "items", "totalAmount", "status", "statusLabel", "createdAt", "updatedAt"]);
    pm.expect(order.totalAmount).to.be.a("number");
    pm.expect(order.items).to.be.an("array").and.not.empty;
    order.items.forEach((item) =>
        pm.expect(item).to.include.all.keys(["productId", "title", "unitPrice", "quantity"]));
});
