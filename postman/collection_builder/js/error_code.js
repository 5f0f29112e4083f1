pm.test("code is __CODE__", () => pm.expect(pm.response.json().code).to.eql("__CODE__"));
