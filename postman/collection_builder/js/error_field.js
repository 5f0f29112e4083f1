pm.test("errors names __FIELD__", () => pm.expect(pm.response.json().errors).to.have.property("__FIELD__"));
