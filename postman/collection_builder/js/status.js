pm.test("status is __CODE__", () => pm.response.to.have.status(__CODE__));
