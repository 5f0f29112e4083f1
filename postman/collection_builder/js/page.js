pm.test("a page: {count, next, previous, results}", () => {
    const body = pm.response.json();
    pm.expect(body).to.include.all.keys("count", "next", "previous", "results");
    pm.expect(body.count).to.be.a("number");
    pm.expect(body.results).to.be.an("array");
});
