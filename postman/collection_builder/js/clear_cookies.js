// Cookies are kept per host, and every service shares one host: start without the
// userAuthToken cookie an earlier login left, so this request carries no credentials.
pm.cookies.jar().clear(pm.variables.replaceIn(pm.request.url.toString()), (err) => {
    if (err) { console.error("cannot clear cookies (in the Postman app, allow this domain in Cookies > Domains allowlist):", err); }
});
