pm.test("a product representation", () => {
    const product = __EXPR__;
    pm.expect(product).to.include.all.keys(["id", "title", "description", "price", "category", "quantity", "imageUrl", "tags", "seller", "rating", "reviewCount", "createdAt", "updatedAt"]);
    pm.expect(product.id).to.match(/^[0-9a-f]{24}$/);
    pm.expect(product.price).to.be.a("number");
    pm.expect(product.quantity).to.be.a("number");
    pm.expect(product.tags).to.be.an("array");
});
