// Single sign-on for the desk and the partner portal (one file, served by each at <page>/assets/oidc.js): the
// OpenID Connect authorization code flow with PKCE (RFC 7636), by hand with WebCrypto. The issuer and the page's
// public client come from <page>/config.json; nothing is fetched from another origin but the issuer's own metadata
// and token endpoint. The tokens live in this tab's sessionStorage only.
//
//   const deskOidc = dealgateOidc({ page: "desk", roles: ["desk", "admin"] });
"use strict";

function dealgateOidc({ page, roles }) {
  const FLOW_KEY = `dealgate.${page}.oidc.flow`; // state, verifier and where to come back to, across the redirect
  const SESSION_KEY = `dealgate.${page}.oidc.session`; // the id token (for signing out) and the refresh token
  let config = { oidc: null, paste: true };
  let metadata = null;

  const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const randomString = (size) => base64url(crypto.getRandomValues(new Uint8Array(size)));
  const redirectUri = () => location.origin + location.pathname;
  const saved = () => JSON.parse(sessionStorage.getItem(SESSION_KEY) || "{}");

  async function load() {
    const response = await fetch(`${page}/config.json`, { cache: "no-store" });
    if (response.ok) config = await response.json();
    return config;
  }

  async function discover() {
    if (!metadata) {
      const response = await fetch(`${config.oidc.issuer}/.well-known/openid-configuration`);
      if (!response.ok) throw new Error(`the identity provider answered HTTP ${response.status}`);
      const document = await response.json();
      if (document.issuer !== config.oidc.issuer) throw new Error("the identity provider names another issuer");
      metadata = document;
    }
    return metadata;
  }

  // Off to the issuer's sign-in page; it sends the browser back here with ?code=...&state=...
  async function begin() {
    const { authorization_endpoint: endpoint } = await discover();
    const verifier = randomString(48);
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const state = randomString(16);
    sessionStorage.setItem(FLOW_KEY, JSON.stringify({ state, verifier, hash: location.hash }));
    const url = new URL(endpoint);
    url.search = new URLSearchParams({
      client_id: config.oidc.client_id, redirect_uri: redirectUri(), response_type: "code", scope: "openid",
      state, code_challenge: challenge, code_challenge_method: "S256",
    }).toString();
    location.assign(url.toString());
  }

  // Back from the issuer: the code for tokens (with this tab's verifier), and the URL as it was. Null when this
  // page load is no answer from the issuer.
  async function complete() {
    const params = new URLSearchParams(location.search);
    if (!config.oidc || !params.has("state")) return null;
    const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
    sessionStorage.removeItem(FLOW_KEY);
    history.replaceState(null, "", redirectUri() + ((flow && flow.hash) || ""));
    if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
    if (!flow || flow.state !== params.get("state")) throw new Error("the answer does not match this tab's request");
    const tokens = await tokenRequest({
      grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri(),
      client_id: config.oidc.client_id, code_verifier: flow.verifier,
    });
    return tokens.access_token;
  }

  async function tokenRequest(form) {
    const { token_endpoint: endpoint } = await discover();
    const response = await fetch(endpoint, { method: "POST", body: new URLSearchParams(form) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || !body.access_token) throw new Error(body.error_description || body.error || `HTTP ${response.status}`);
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({
      id_token: body.id_token || saved().id_token, refresh_token: body.refresh_token || saved().refresh_token,
    }));
    return body;
  }

  // A fresh access token from the refresh token once the one in use has expired; null when there is none.
  async function refresh() {
    const { refresh_token: refreshToken } = saved();
    if (!config.oidc || !refreshToken) return null;
    try {
      return (await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: config.oidc.client_id })).access_token;
    } catch (_error) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
  }

  // Forget the tokens and end the issuer's session too, coming back to the page; false when not signed in so.
  async function signOut() {
    const { id_token: idToken } = saved();
    sessionStorage.removeItem(SESSION_KEY);
    if (!config.oidc || !idToken) return false;
    const { end_session_endpoint: endpoint } = await discover();
    if (!endpoint) return false;
    const url = new URL(endpoint);
    url.search = new URLSearchParams({
      id_token_hint: idToken, post_logout_redirect_uri: redirectUri(), client_id: config.oidc.client_id,
    }).toString();
    location.assign(url.toString());
    return true;
  }

  // The page's role an access token carries, by the configured claim (a name or a dotted path; string or list).
  function roleOf(claims) {
    if (claims.role) return claims.role;
    const path = (config.oidc && config.oidc.role_claim) || "role";
    let value = path in claims ? claims[path] : path.split(".").reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), claims);
    if (Array.isArray(value)) value = value.filter((role) => roles.includes(role)).join(", ");
    return value || `no ${page} role`;
  }

  return { load, begin, complete, refresh, signOut, roleOf, get config() { return config; } };
}
