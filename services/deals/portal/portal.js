// The partner portal: your registrations (filter, status, reason, protection end, history), registering a deal
// with the pre-check as you type, extend / close / withdraw, and your webhook endpoints with their deliveries.
// Everything goes through the deals API with the partner's token. Customer names and reasons come from people,
// so the page builds DOM nodes with textContent only (never innerHTML).
"use strict";

const portalOidc = dealgateOidc({ page: "portal", roles: ["partner", "marketplace", "sales"] }); // shared/data/web/oidc.js

const TOKEN_KEY = "dealgate.portal.token";
const PAGE_SIZE = 50;
const PRECHECK_DELAY_MS = 600;
const EVENT_TYPES = ["deal.approved", "deal.in_conflict", "deal.rejected", "deal.expiring", "deal.expired"];
const STATUS_WORDS = { in_conflict: "in review" };
const state = { token: null, items: [], after: null, deal: null, endpoint: null, precheckTimer: null, precheckSeq: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(message, isError = false) {
  $("status").textContent = message || "";
  $("status").classList.toggle("error", isError);
}

async function call(method, path, body, headers = {}) {
  const options = { method, headers: { Authorization: `Bearer ${state.token}`, ...headers } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response = await fetch(path, options);
  if (response.status === 401 && state.token) {
    const renewed = await portalOidc.refresh();  // signed in with single sign-on: renew once and send again
    if (renewed) {
      state.token = renewed;
      sessionStorage.setItem(TOKEN_KEY, renewed);
      options.headers.Authorization = `Bearer ${renewed}`;
      response = await fetch(path, options);
    }
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && (data.detail || data.title)) || `HTTP ${response.status}`);
    error.status = response.status;
    error.errors = (data && data.errors) || {};
    throw error;
  }
  return data;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
const day = (iso) => (iso ? new Date(iso).toLocaleDateString() : "–");
const statusWord = (status) => STATUS_WORDS[status] || status;
const badge = (status) => el("span", { class: `badge ${status}` }, statusWord(status));

// --- sign in ---------------------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token.trim();
  try {
    await call("GET", "v1/deals?limit=1");
    await call("GET", "v1/webhooks");
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    say(error.status === 403 ? "That token is not a partner's (it needs the partner, marketplace or sales role)."
      : `Sign-in failed: ${error.message}`, true);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("signin").hidden = true;
  $("sso").hidden = true;
  $("signed-in").hidden = false;
  $("views").hidden = false;
  $("who").textContent = describeToken(state.token);
  say("Signed in.");
  await route();
}

function describeToken(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${claims.partner_id || claims.preferred_username || claims.sub} (${portalOidc.roleOf(claims)})`;
  } catch (_error) {
    return "signed in";
  }
}

async function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  for (const id of ["deals-view", "register-view", "webhooks-view", "signed-in", "views"]) $(id).hidden = true;
  say("Signed out.");
  if (!(await portalOidc.signOut())) showSignIn();
}

function showSignIn() {
  $("sso").hidden = !portalOidc.config.oidc;
  $("signin").hidden = !portalOidc.config.paste;
  if (!portalOidc.config.oidc && !portalOidc.config.paste) say("No way to sign in is configured.", true);
}

// --- views -----------------------------------------------------------------------------------------------

async function route() {
  if (!state.token) return;
  const hash = location.hash.replace(/^#/, "");
  const view = hash.startsWith("deal=") ? "deals" : (["deals", "register", "webhooks"].includes(hash) ? hash : "deals");
  for (const name of ["deals", "register", "webhooks"]) {
    $(`${name}-view`).hidden = name !== view;
    $(`nav-${name}`).toggleAttribute("aria-current", name === view);
    if (name === view) $(`nav-${name}`).setAttribute("aria-current", "page");
  }
  if (view === "deals") {
    if (!state.items.length) await loadDeals();
    if (hash.startsWith("deal=")) await openDeal(decodeURIComponent(hash.slice(5)));
    else $("deal").hidden = true;
  } else if (view === "register") {
    await loadProducts();
  } else {
    await loadEndpoints();
  }
}

// --- registrations ---------------------------------------------------------------------------------------

async function loadDeals(more = false) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if ($("filter-status").value) params.set("status", $("filter-status").value);
  if (more && state.after) params.set("cursor", state.after);
  const page = await call("GET", `v1/deals?${params}`);
  state.items = more ? state.items.concat(page.items) : page.items;
  state.after = page.next_cursor;
  drawDeals();
}

function drawDeals() {
  const text = $("filter-text").value.trim().toLowerCase();
  const shown = state.items.filter((d) => !text || String(d.customer.name).toLowerCase().includes(text));
  $("deals").querySelector("tbody").replaceChildren(...shown.map((d) => el("tr", {
    "data-deal": d.id, class: state.deal && state.deal.id === d.id ? "selected" : "",
    onclick: () => { location.hash = `deal=${encodeURIComponent(d.id)}`; },
  }, el("td", { class: "customer" }, d.customer.name), el("td", {}, badge(d.status)), el("td", { class: "reason" }, d.reason),
  el("td", {}, day(d.protection_until)), el("td", {}, day(d.submitted_at)))));
  $("deals-empty").hidden = shown.length > 0;
  $("more").hidden = !state.after;
}

async function openDeal(id) {
  state.deal = await call("GET", `v1/deals/${encodeURIComponent(id)}`);
  drawDeal();
  drawDeals();
}

function drawDeal() {
  const d = state.deal;
  $("deal").hidden = false;
  $("deal-title").textContent = d.customer.name;
  const facts = [
    ["Status", badge(d.status)], ["Reason", d.reason], ["Protected until", when(d.protection_until)],
    ["Country", d.customer.country], ["Domain", d.customer.domain || "–"],
    ["Amount", `${d.amount.amount} ${d.amount.currency}`], ["Expected close", d.expected_close],
    ["Opportunity", d.opportunity_name || "–"], ["Extensions used", d.extensions_used], ["Registration id", d.id],
  ];
  $("deal-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  $("timeline").replaceChildren(...d.history.map((h) => el("li", { class: h.status },
    el("span", { class: "when" }, when(h.at)), " ", badge(h.status), " ", el("span", { class: "reason" }, h.reason))));
  const active = ["submitted", "approved", "in_conflict"].includes(d.status);
  $("extend").disabled = d.status !== "approved";
  $("close-won").disabled = d.status !== "approved";
  $("close-lost").disabled = d.status !== "approved";
  $("withdraw").disabled = !active;
}

async function act(path, body, done) {
  try {
    state.deal = await call("POST", `v1/deals/${encodeURIComponent(state.deal.id)}/${path}`, body);
    drawDeal();
    state.items = state.items.map((d) => (d.id === state.deal.id ? state.deal : d));
    drawDeals();
    say(done);
  } catch (error) {
    say(error.message, true);
  }
}

// --- registering -----------------------------------------------------------------------------------------

async function loadProducts() {
  const select = $("f-products");
  if (select.options.length) return;
  const { items } = await call("GET", "portal/products.json");
  select.replaceChildren(...items.map((p) => el("option", { value: p.id }, p.title)));
  if (!$("f-expected_close").value) {
    const inMonth = new Date(Date.now() + 30 * 86400000);
    $("f-expected_close").value = inMonth.toISOString().slice(0, 10);
  }
}

const value = (id) => $(id).value.trim();
const selectedProducts = () => [...$("f-products").selectedOptions].map((o) => o.value);

function customer() {
  const c = { name: value("f-customer-name"), country: value("f-customer-country").toUpperCase() };
  for (const field of ["domain", "tax_id", "duns"]) if (value(`f-customer-${field}`)) c[field] = value(`f-customer-${field}`);
  return c;
}

function registration() {
  const body = {
    customer: customer(), products: selectedProducts(),
    amount: { amount: value("f-amount-amount"), currency: value("f-amount-currency").toUpperCase() },
    expected_close: value("f-expected_close"),
  };
  if (value("f-opportunity_name")) body.opportunity_name = value("f-opportunity_name");
  if (value("f-notes")) body.notes = $("f-notes").value;
  const contact = {};
  if (value("f-contact-name")) contact.name = value("f-contact-name");
  if (value("f-contact-email")) contact.email = value("f-contact-email");
  if (Object.keys(contact).length) body.contact = contact;
  return body;
}

// The API's rules that can be checked here; the API checks them all again and its 422 lands on the same fields.
function problems(body) {
  const errors = {};
  const add = (field, message) => { (errors[field] = errors[field] || []).push(message); };
  if (!body.customer.name) add("customer.name", "Enter the customer's company name.");
  if (!/^[A-Z]{2}$/.test(body.customer.country)) add("customer.country", "Use the two-letter ISO country code, such as DE.");
  if (body.customer.domain && !/^(https?:\/\/)?[^\s/]+\.[^\s/]+/.test(body.customer.domain)) add("customer.domain", "Enter a web domain such as initech.de.");
  if (body.customer.duns && !/^\d{9}$/.test(body.customer.duns)) add("customer.duns", "A DUNS number has 9 digits.");
  if (body.products.length < 1 || body.products.length > 20) add("products", "Pick 1 to 20 products.");
  if (!/^\d{1,15}(\.\d{1,4})?$/.test(body.amount.amount) || Number(body.amount.amount) <= 0) add("amount.amount", "Enter a positive amount such as 25000.00.");
  if (!/^[A-Z]{3}$/.test(body.amount.currency)) add("amount.currency", "Use a three-letter currency code, such as EUR.");
  if (!body.expected_close) add("expected_close", "Enter the expected close date.");
  else if (body.expected_close < new Date().toISOString().slice(0, 10)) add("expected_close", "The expected close date cannot be in the past.");
  if (body.contact && body.contact.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.contact.email)) add("contact.email", "Enter an e-mail address.");
  return errors;
}

function showErrors(errors) {
  for (const old of document.querySelectorAll("#register .field-error")) old.remove();
  for (const input of document.querySelectorAll("#register [name]")) input.removeAttribute("aria-invalid");
  const unplaced = [];
  for (const [field, messages] of Object.entries(errors)) {
    const input = document.querySelector(`#register [name="${CSS.escape(field)}"]`)
      || document.querySelector(`#register [name="${CSS.escape(field.split(".")[0])}"]`);
    const text = [].concat(messages).join(" ");
    if (!input) { unplaced.push(`${field}: ${text}`); continue; }
    input.setAttribute("aria-invalid", "true");
    input.closest("label, fieldset").append(el("span", { class: "field-error", "data-field": field }, text));
  }
  return unplaced;
}

function schedulePrecheck() {
  clearTimeout(state.precheckTimer);
  state.precheckTimer = setTimeout(() => precheck().catch(() => {}), PRECHECK_DELAY_MS);
}

async function precheck() {
  const body = { customer: customer(), products: selectedProducts() };
  const box = $("precheck");
  if (!body.customer.name || !/^[A-Z]{2}$/.test(body.customer.country) || !body.products.length) {
    box.hidden = true;
    return;
  }
  const seq = ++state.precheckSeq;
  try {
    const answer = await call("POST", "v1/deals/check", body);
    if (seq !== state.precheckSeq) return;  // an older answer after a newer question
    box.className = `precheck ${answer.result}`;
    box.replaceChildren(el("strong", {}, { available: "Available", claimed: "Already claimed", review: "Would need review" }[answer.result] || answer.result),
      ": ", answer.reason);
  } catch (error) {
    if (seq !== state.precheckSeq) return;
    box.className = "precheck review";
    box.replaceChildren(error.status === 429 ? "Pre-check paused: too many checks this minute." : `Pre-check: ${error.message}`);
  }
  box.hidden = false;
}

async function submitDeal(event) {
  event.preventDefault();
  const body = registration();
  const errors = problems(body);
  if (Object.keys(errors).length) {
    showErrors(errors);
    say("Some fields need attention.", true);
    return;
  }
  showErrors({});
  try {
    const created = await call("POST", "v1/deals", body, { "Idempotency-Key": crypto.randomUUID() });
    say(`Registered: ${created.customer.name} is ${statusWord(created.status)}.`);
    $("register").reset();
    $("precheck").hidden = true;
    state.items = [];
    location.hash = `deal=${encodeURIComponent(created.id)}`;
  } catch (error) {
    const unplaced = showErrors(error.errors || {});
    say([error.message, ...unplaced].join(" "), true);
  }
}

// --- webhooks --------------------------------------------------------------------------------------------

async function loadEndpoints() {
  const { items } = await call("GET", "v1/webhooks");
  $("endpoints").querySelector("tbody").replaceChildren(...items.map((e) => el("tr", { "data-endpoint": e.id, class: state.endpoint === e.id ? "selected" : "" },
    el("td", { class: "url" }, e.url), el("td", {}, e.events.join(", ")),
    el("td", {}, e.enabled ? el("span", { class: "badge approved" }, "enabled")
      : el("span", {}, el("span", { class: "badge rejected" }, "disabled"), " ", e.disabled_reason || ""),
    e.failing_since ? el("div", { class: "muted" }, `failing since ${when(e.failing_since)}`) : null,
    e.previous_secret_valid_until ? el("div", { class: "muted" }, `previous secret signs too until ${when(e.previous_secret_valid_until)}`) : null),
    el("td", { class: "row-actions" },
      el("button", { type: "button", class: "secondary", onclick: () => loadDeliveries(e.id) }, "Deliveries"),
      el("button", { type: "button", class: "secondary", onclick: () => endpointAction(e.id, "POST", "rotate-secret") }, "Rotate secret"),
      el("button", { type: "button", class: "secondary", onclick: () => endpointAction(e.id, "PATCH", "", { enabled: !e.enabled }) }, e.enabled ? "Disable" : "Enable"),
      el("button", { type: "button", class: "danger", onclick: () => endpointAction(e.id, "DELETE", "") }, "Delete")))));
  $("endpoints-empty").hidden = items.length > 0;
  if (state.endpoint && items.some((e) => e.id === state.endpoint)) await loadDeliveries(state.endpoint);
  else $("deliveries-box").hidden = true;
}

function showSecret(secret) {
  $("secret").textContent = secret;
  $("secret-box").hidden = !secret;
}

async function endpointAction(id, method, path, body) {
  try {
    const answer = await call(method, `v1/webhooks/${encodeURIComponent(id)}${path ? `/${path}` : ""}`, body);
    showSecret(answer && answer.secret);
    if (method === "DELETE" && state.endpoint === id) state.endpoint = null;
    say({ "rotate-secret": "New secret made; the previous one signs too for 24 h.", "": method === "DELETE" ? "Endpoint deleted." : "Endpoint updated." }[path]);
    await loadEndpoints();
  } catch (error) {
    say(error.message, true);
  }
}

async function addEndpoint(event) {
  event.preventDefault();
  const events = [...document.querySelectorAll("#w-events input:checked")].map((box) => box.value);
  try {
    const created = await call("POST", "v1/webhooks", { url: value("w-url"), events });
    showSecret(created.secret);
    $("new-endpoint").reset();
    say("Endpoint added.");
    await loadEndpoints();
  } catch (error) {
    const fields = Object.entries(error.errors || {}).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`);
    say([error.message, ...fields].join(" "), true);
  }
}

async function loadDeliveries(endpointId) {
  state.endpoint = endpointId;
  const { items } = await call("GET", `v1/webhooks/${encodeURIComponent(endpointId)}/deliveries?limit=50`);
  for (const row of document.querySelectorAll("#endpoints tbody tr")) row.classList.toggle("selected", row.dataset.endpoint === endpointId);
  $("deliveries").querySelector("tbody").replaceChildren(...items.map((d) => el("tr", { "data-delivery": d.id },
    el("td", {}, d.event_type), el("td", { class: "mono" }, d.deal_id || "–"),
    el("td", {}, el("span", { class: `badge ${d.status}` }, d.status), d.next_attempt_at ? el("div", { class: "muted" }, `next ${when(d.next_attempt_at)}`) : null),
    el("td", {}, el("ol", { class: "attempts" }, d.attempts.map((a) => el("li", {},
      `${a.response_status === null ? (a.error || "no answer") : a.response_status} · ${a.latency_ms} ms${a.trigger === "replay" ? " (replay)" : ""}`)))),
    el("td", {}, when(d.created_at)),
    el("td", {}, d.status === "pending" ? null : el("button", { type: "button", class: "secondary", onclick: () => replay(endpointId, d.id) }, "Replay")))));
  $("deliveries-empty").hidden = items.length > 0;
  $("deliveries-box").hidden = false;
}

async function replay(endpointId, deliveryId) {
  try {
    await call("POST", `v1/webhooks/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(deliveryId)}/replay`);
    say("Queued to be sent again.");
    await loadDeliveries(endpointId);
  } catch (error) {
    say(error.message, true);
  }
}

// --- wiring ----------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("w-events").append(...EVENT_TYPES.map((type) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "events", value: type, checked: type !== "deal.expiring" }), type)));
  $("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value); });
  $("signout").addEventListener("click", () => signOut().catch((error) => say(error.message, true)));
  $("sso-signin").addEventListener("click", () => portalOidc.begin().catch((error) => say(`Sign-in failed: ${error.message}`, true)));
  $("filter-status").addEventListener("change", () => loadDeals().catch((error) => say(error.message, true)));
  $("filter-text").addEventListener("input", drawDeals);
  $("deal-filters").addEventListener("submit", (event) => event.preventDefault());
  $("reload").addEventListener("click", () => loadDeals().catch((error) => say(error.message, true)));
  $("more").addEventListener("click", () => loadDeals(true).catch((error) => say(error.message, true)));
  $("close-detail").addEventListener("click", () => { state.deal = null; location.hash = "deals"; });
  $("extend").addEventListener("click", () => act("extend", undefined, "Protection extended."));
  $("close-won").addEventListener("click", () => act("close", { outcome: "won" }, "Closed as won."));
  $("close-lost").addEventListener("click", () => act("close", { outcome: "lost" }, "Closed as lost."));
  $("withdraw").addEventListener("click", () => act("withdraw", undefined, "Withdrawn."));
  $("register").addEventListener("submit", submitDeal);
  for (const id of ["f-customer-name", "f-customer-domain", "f-customer-country", "f-customer-tax_id", "f-customer-duns"]) {
    $(id).addEventListener("input", schedulePrecheck);
  }
  $("f-products").addEventListener("change", schedulePrecheck);
  $("new-endpoint").addEventListener("submit", addEndpoint);
  window.addEventListener("popstate", () => route().catch((error) => say(error.message, true)));
  portalOidc.load().then(async () => {
    showSignIn();
    const fromIssuer = await portalOidc.complete();
    const saved = fromIssuer || sessionStorage.getItem(TOKEN_KEY);
    if (saved) await signIn(saved);
  }).catch((error) => say(`Sign-in failed: ${error.message}`, true));
});
