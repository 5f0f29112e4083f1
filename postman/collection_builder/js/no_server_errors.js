pm.test("no server error (a 500 is always a bug)", () => pm.expect(pm.response.code).to.be.below(500));
