"""The Users folder: user_service's registration, login, tokens, me, logout, password."""

from __future__ import annotations

from .items import folder, request
from .scripts import CLEAR_COOKIES, block, error, status, user_shape

PASSWORD = "Postman-S3cure-passw0rd!"
NEW_PASSWORD = "Postman-N3w-passw0rd!"


def register(who: str, first: str, last: str) -> dict:
    return request(
        f"Register the {who}",
        "POST",
        "userUrl",
        "/users/register",
        body={
            "firstName": first,
            "lastName": last,
            "email": "{{" + who + "Email}}",
            "password": "{{password}}",
        },
        pre=block("register_pre", who=who, password=PASSWORD),
        test=status(201)
        + user_shape("pm.response.json().user")
        + block("register_test", who=who, first=first),
    )


def login(
    who: str, *, email: str, password: str, token_var: str, refresh_var: str, check: str = ""
) -> dict:
    return request(
        f"Log in as the {who}",
        "POST",
        "userUrl",
        "/users/login",
        body={"email": email, "password": password},
        test=check
        + status(200)
        + block("login_test", token_var=token_var, refresh_var=refresh_var),
    )


def registrations() -> list[dict]:
    """Seller, buyer and stranger, unique to the run; bad registrations are 400."""
    return [
        register("seller", "Grace", "Hopper"),
        register("buyer", "Ada", "Lovelace"),
        register("stranger", "Alan", "Turing"),
        request(
            "Register with a taken email is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={
                "firstName": "Grace",
                "lastName": "Again",
                "email": "{{sellerEmail}}",
                "password": "{{password}}",
            },
            test=error(400, None, "email"),
        ),
        request(
            "Register with a weak password is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={
                "firstName": "Weak",
                "lastName": "Password",
                "email": "weak-{{runId}}@example.com",
                "password": "12345678",
            },
            test=error(400, None, "password"),
        ),
        request(
            "Register without required fields is 400",
            "POST",
            "userUrl",
            "/users/register",
            body={"email": "incomplete-{{runId}}@example.com"},
            test=error(400, None, "firstName", "lastName", "password"),
        ),
    ]


def logins() -> list[dict]:
    """Each user's and the admin's login (token, refresh, cookie); a wrong password is 401."""
    return [
        login(
            "seller",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sellerToken",
            refresh_var="sellerRefresh",
        ),
        request(
            "Log in with a wrong password is 401",
            "POST",
            "userUrl",
            "/users/login",
            body={"email": "{{sellerEmail}}", "password": "not-the-password"},
            test=error(401),
        ),
        login(
            "buyer",
            email="{{buyerEmail}}",
            password="{{password}}",
            token_var="buyerToken",
            refresh_var="buyerRefresh",
        ),
        login(
            "stranger",
            email="{{strangerEmail}}",
            password="{{password}}",
            token_var="strangerToken",
            refresh_var="strangerRefresh",
        ),
        login(
            "admin",
            email="{{adminEmail}}",
            password="{{adminPassword}}",
            token_var="adminToken",
            refresh_var="adminRefresh",
            check="""
pm.test("adminPassword is set in the environment (./manage_all.sh up prints it)", () => pm.expect(pm.environment.get("adminPassword") || pm.variables.get("adminPassword")).to.be.a("string").and.not.empty);
""",
        ),
    ]


def me() -> list[dict]:
    """GET and PATCH /users/me; setting role is refused."""
    return [
        request(
            "Me (the seller)",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            test=status(200)
            + user_shape()
            + """
pm.test("is the seller", () => {
    const me = pm.response.json();
    pm.expect(me.id).to.eql(pm.collectionVariables.get("sellerId"));
    pm.expect(me.email).to.eql(pm.collectionVariables.get("sellerEmail"));
});
""",
        ),
        request(
            "Me (the admin) has role admin",
            "GET",
            "userUrl",
            "/users/me",
            token="adminToken",
            test=status(200)
            + """
pm.test("role is admin", () => pm.expect(pm.response.json().role).to.eql("admin"));
""",
        ),
        request(
            "Me without a token is 401",
            "GET",
            "userUrl",
            "/users/me",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Update me (PATCH)",
            "PATCH",
            "userUrl",
            "/users/me",
            token="sellerToken",
            body={"firstName": "Grace Brewster", "lastName": "Hopper"},
            test=status(200)
            + user_shape()
            + """
pm.test("names updated", () => {
    pm.expect(pm.response.json().firstName).to.eql("Grace Brewster");
    pm.expect(pm.response.json().role).to.eql("user");
});
""",
        ),
        request(
            "Update me cannot make me an admin (400)",
            "PATCH",
            "userUrl",
            "/users/me",
            token="sellerToken",
            body={"role": "admin"},
            test=error(400, None, "role"),
        ),
    ]


def refresh_rotation() -> list[dict]:
    """Refresh rotates; reusing a rotated refresh token ends that session."""
    return [
        request(
            "Refresh the token pair",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sellerRefresh}}"},
            test=status(200)
            + """
const body = pm.response.json();
pm.test("a new pair; the refresh token rotated", () => {
    pm.expect(body.token).to.be.a("string").and.not.empty;
    pm.expect(body.refresh).to.be.a("string").and.not.eql(pm.collectionVariables.get("sellerRefresh"));
});
pm.collectionVariables.set("rotatedRefresh", pm.collectionVariables.get("sellerRefresh"));
pm.collectionVariables.set("sellerToken", body.token);
pm.collectionVariables.set("sellerRefresh", body.refresh);
""",
        ),
        request(
            "Reusing the rotated (old) refresh token is 401 and ends that session",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{rotatedRefresh}}"},
            test=error(401, "refresh_token_not_valid"),
        ),
        request(
            "After the reuse the session's newest refresh token is 401 too",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sellerRefresh}}"},
            test=error(401),
        ),
        request(
            "After the reuse the session's newest access token is 401 too",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        login(
            "seller anew (the reuse ended the first session)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sellerToken",
            refresh_var="sellerRefresh",
        ),
        request(
            "Refresh with garbage is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "not-a-token"},
            test=error(401),
        ),
    ]


def logouts() -> list[dict]:
    """POST /users/logout revokes one session only; the old GET only clears the cookie."""
    return [
        login(
            "seller again (a second session, to log out)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sessionToken",
            refresh_var="sessionRefresh",
        ),
        request(
            "Log out with another user's refresh token is 400",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{buyerRefresh}}"},
            test=error(400, None, "refresh"),
        ),
        request(
            "Log out (POST, revokes the refresh token, clears the cookie)",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{sessionRefresh}}"},
            test=status(200)
            + """
pm.test("message", () => pm.expect(pm.response.json().message).to.be.a("string"));
pm.test("clears the userAuthToken cookie", () => {
    const header = pm.response.headers.all()
        .filter((h) => h.key.toLowerCase() === "set-cookie" && h.value.startsWith("userAuthToken="))
        .map((h) => h.value).join("; ");
    pm.expect(header, "a Set-Cookie for userAuthToken").not.to.be.empty;
    pm.expect(pm.cookies.has("userAuthToken"), "cookie still in the jar").to.be.false;
});
""",
        ),
        request(
            "Refresh with the logged-out refresh token is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{sessionRefresh}}"},
            test=error(401),
        ),
        request(
            "Me with the logged-out access token is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Logging out one session leaves the others (buyer's refresh still works)",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{buyerRefresh}}"},
            test=status(200)
            + """
pm.collectionVariables.set("buyerToken", pm.response.json().token);
pm.collectionVariables.set("buyerRefresh", pm.response.json().refresh);
""",
        ),
        request(
            "Me (the seller's main session) still works",
            "GET",
            "userUrl",
            "/users/me",
            token="sellerToken",
            test=status(200),
        ),
        login(
            "seller once more (a third session, for the old GET logout)",
            email="{{sellerEmail}}",
            password="{{password}}",
            token_var="sessionToken",
            refresh_var="sessionRefresh",
        ),
        request(
            "Log out (GET, as old clients do)",
            "GET",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            test=status(200)
            + """
pm.test("message", () => pm.expect(pm.response.json().message).to.be.a("string"));
pm.test("the cookie is gone", () => pm.expect(pm.cookies.has("userAuthToken")).to.be.false);
""",
        ),
        request(
            "Me with that token still works: the GET only cleared the cookie",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            test=status(200),
        ),
        request(
            "Log out that session (POST revokes)",
            "POST",
            "userUrl",
            "/users/logout",
            token="sessionToken",
            body={"refresh": "{{sessionRefresh}}"},
            test=status(200),
        ),
        request(
            "Me with the POST-logged-out token is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="sessionToken",
            test=error(401),
        ),
    ]


def password_change() -> list[dict]:
    """Changing the stranger's password ends their sessions and answers a new pair."""
    return [
        request(
            "Change password with a wrong current password is 400",
            "POST",
            "userUrl",
            "/users/me/password",
            token="strangerToken",
            body={"currentPassword": "not-the-password", "newPassword": NEW_PASSWORD},
            test=error(400, "wrong_password", "currentPassword"),
        ),
        request(
            "Change the stranger's password (ends their sessions, answers a new pair)",
            "POST",
            "userUrl",
            "/users/me/password",
            token="strangerToken",
            body={"currentPassword": "{{password}}", "newPassword": "{{newPassword}}"},
            pre=f'pm.collectionVariables.set("newPassword", "{NEW_PASSWORD}");',
            test=status(200)
            + """
const body = pm.response.json();
pm.test("message, token (access) and refresh", () => {
    pm.expect(body.message).to.be.a("string");
    pm.expect(body.token).to.be.a("string").and.not.eql(pm.collectionVariables.get("strangerToken"));
    pm.expect(body.refresh).to.be.a("string").and.not.empty;
});
pm.test("sets the userAuthToken cookie to the new access token", () => {
    pm.expect(pm.cookies.get("userAuthToken")).to.eql(body.token);
});
pm.collectionVariables.set("revokedToken", pm.collectionVariables.get("strangerToken"));
pm.collectionVariables.set("revokedRefresh", pm.collectionVariables.get("strangerRefresh"));
pm.collectionVariables.set("strangerToken", body.token);
pm.collectionVariables.set("strangerRefresh", body.refresh);
""",
        ),
        request(
            "Me with the access token from before the password change is 401",
            "GET",
            "userUrl",
            "/users/me",
            token="revokedToken",
            pre=CLEAR_COOKIES,
            test=error(401),
        ),
        request(
            "Refresh with the refresh token from before the password change is 401",
            "POST",
            "userUrl",
            "/users/token/refresh",
            body={"refresh": "{{revokedRefresh}}"},
            test=error(401),
        ),
        request(
            "Me with the pair the password change answered",
            "GET",
            "userUrl",
            "/users/me",
            token="strangerToken",
            test=status(200),
        ),
        login(
            "stranger with the new password",
            email="{{strangerEmail}}",
            password="{{newPassword}}",
            token_var="strangerToken",
            refresh_var="strangerRefresh",
        ),
    ]


def users_folder() -> dict:
    return folder(
        "Users",
        "user_service: register, login (token and the userAuthToken cookie), refresh with "
        "rotation (reusing a rotated refresh token ends that session), me, password change "
        "(ends the user's sessions, answers a new pair), logout (POST and the old GET). "
        "Registers three users unique to the run: seller, buyer and stranger; logs in the admin "
        "from the environment.",
        [*registrations(), *logins(), *me(), *refresh_rotation(), *logouts(), *password_change()],
    )
