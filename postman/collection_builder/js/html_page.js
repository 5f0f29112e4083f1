pm.test("an HTML page", () => pm.expect(pm.response.headers.get("Content-Type")).to.include("text/html"));
