// The channel desk: queues, a paged list of cases with the chosen case beside it (or in its place on a narrow
// screen), claim / award / reject / dismiss, and an analytics view drawn with the vendored Chart.js.
// The open case lives in the URL (#case=<id>), so a link to it can be shared; j / k move through the list, c claims.
// Every value shown comes from partners, so the page builds DOM nodes with textContent only (never innerHTML).
"use strict";

const deskOidc = dealgateOidc({ page: "desk", roles: ["desk", "admin"] }); // shared/data/web/oidc.js

const TOKEN_KEY = "dealgate.desk.token";
const REFRESH_MS = 15000;
const PAGE_SIZE = 50;
const state = {
  token: null, timer: null, view: "cases", caseId: null, case: null,
  // Cursor paging: `pages` holds where each page seen so far starts, per status stream; `after` where the next one does.
  pages: [], after: null, items: [],
  charts: {}, analyticsLoaded: false, keys: Promise.resolve(),
};
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
  const status = $("status");
  status.textContent = message || "";
  status.classList.toggle("error", isError);
}

async function call(method, path, body) {
  const options = { method, headers: { Authorization: `Bearer ${state.token}` } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response = await fetch(path, options);
  if (response.status === 401 && state.token) {
    // Signed in with single sign-on: an expired access token is renewed with the refresh token, and sent again.
    const renewed = await deskOidc.refresh();
    if (renewed) {
      state.token = renewed;
      sessionStorage.setItem(TOKEN_KEY, renewed);
      options.headers.Authorization = `Bearer ${renewed}`;
      response = await fetch(path, options);
    }
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const fields = data && data.errors ? " " + Object.entries(data.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join("; ") : "";
    const error = new Error(((data && (data.detail || data.title)) || `HTTP ${response.status}`) + fields);
    error.status = response.status;
    throw error;
  }
  return data;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

function shortly(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "–";
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)} %`;
}

// Folded the way the matcher folds names: accents off, lower case, letters and digits only.
function fold(word) {
  return word.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

function highlighted(text, tokens) {
  if (!text) return "–";
  const parts = String(text).split(/(\s+)/);
  return el("span", {}, parts.map((part) => (tokens.has(fold(part)) ? el("mark", {}, part) : part)));
}

// A product as the case names it: {id, title} (title null until the catalog's listing is known), or a bare id.
function product(entry) {
  return typeof entry === "string" ? { id: entry, title: null } : entry;
}

// --- sign in -------------------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token.trim();
  try {
    await call("GET", "v1/queues");
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    say(error.status === 403 ? "That token may not use the desk (it needs the desk or admin role)." : `Sign-in failed: ${error.message}`, true);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("signin").hidden = true;
  $("sso").hidden = true;
  $("signed-in").hidden = false;
  $("views").hidden = false;
  $("who").textContent = describeToken(state.token);
  say("Signed in.");
  state.pages = [firstPage()];
  await route();
  clearInterval(state.timer);
  state.timer = setInterval(() => refresh({ timed: true }).catch(() => {}), REFRESH_MS);
}

function describeToken(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${claims.preferred_username || claims.sub} (${deskOidc.roleOf(claims)})`;
  } catch (_error) {
    return "signed in";
  }
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: null, caseId: null, case: null, analyticsLoaded: false });
  clearInterval(state.timer);
  $("desk").hidden = true;
  $("analytics").hidden = true;
  $("leads").hidden = true;
  $("views").hidden = true;
  $("signed-in").hidden = true;
  $("token").value = "";
  say("Signed out.");
  showSignIn();
  deskOidc.signOut().catch((error) => say(`Signed out here; the identity provider's session may remain: ${error.message}`, true));
}

// Single sign-on when an issuer is configured; a pasted token only where the service allows it (development).
function showSignIn() {
  $("sso").hidden = !deskOidc.config.oidc;
  $("signin").hidden = !deskOidc.config.paste;
}

// --- views and the URL -----------------------------------------------------------------------------------
// #case=<id> opens a case, #analytics the analytics view, anything else the list.

async function route() {
  if (!state.token) return;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("analytics")) {
    showView("analytics");
    if (!state.analyticsLoaded) await loadAnalytics();
    return;
  }
  if (hash.has("leads")) {
    showView("leads");
    await loadLeads();
    return;
  }
  const firstVisit = state.view !== "cases" || !state.items.length;
  showView("cases");
  if (firstVisit) await refreshList();
  const caseId = hash.get("case");
  if (caseId) await showCase(caseId);
  else closeCase({ updateUrl: false });
}

function showView(view) {
  state.view = view;
  $("desk").hidden = view !== "cases";
  $("analytics").hidden = view !== "analytics";
  $("leads").hidden = view !== "leads";
  for (const [name, link] of [["cases", $("nav-cases")], ["analytics", $("nav-analytics")], ["leads", $("nav-leads")]]) {
    if (name === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Opening a case from the list adds a history entry (the browser's Back returns to the list); moving with
// j / k replaces it, so that Back does not walk through every case passed on the way.
function openCase(caseId, { replace = false } = {}) {
  const hash = `#case=${encodeURIComponent(caseId)}`;
  if (location.hash === hash) return showCase(caseId);
  if (replace) {
    history.replaceState(null, "", hash);
    return showCase(caseId);
  }
  location.hash = hash; // popstate -> route -> showCase
  return Promise.resolve();
}

function closeCase({ updateUrl = true } = {}) {
  state.caseId = null;
  state.case = null;
  $("case").hidden = true;
  $("desk").classList.remove("with-case");
  for (const row of $("cases").querySelectorAll("tbody tr.selected")) row.classList.remove("selected");
  if (updateUrl && location.hash.startsWith("#case=")) history.pushState(null, "", "#cases");
}

// --- queues and the paged list of cases ------------------------------------------------------------------

// The timer keeps the queues and cases current; analytics are redrawn when asked (Refresh, or Show).
async function refresh({ timed = false } = {}) {
  try {
    if (state.view === "analytics") {
      if (!timed) await loadAnalytics();
      return;
    }
    if (state.view === "leads") {
      await loadLeads();
      return;
    }
    await refreshList();
    if (state.caseId) await showCase(state.caseId);
  } catch (error) {
    say(error.message, true);
  }
}

async function refreshList() {
  await Promise.all([loadQueues(), loadPage()]);
}

async function loadQueues() {
  const queues = await call("GET", "v1/queues");
  const body = $("queues").querySelector("tbody");
  body.replaceChildren(...queues.map((queue) => el("tr", { "data-queue": queue.name, onclick: () => pickQueue(queue.name) },
    el("td", {}, queue.name), el("td", {}, queue.open), el("td", {}, queue.claimed),
    el("td", {}, age(queue.oldest_open_age_s)),
    el("td", {}, queue.sla_breached ? el("span", { class: "badge breach" }, queue.sla_breached) : "0"))));
  const select = $("filter-queue");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "all queues"), ...queues.map((q) => el("option", { value: q.name }, q.name)));
  select.value = chosen;
}

function pickQueue(name) {
  $("filter-queue").value = name;
  filtersChanged();
}

function filtersChanged() {
  state.pages = [firstPage()];
  loadPage().catch((error) => say(error.message, true));
}

// "not resolved" asks for open and claimed cases together; the API pages them oldest first with one cursor.
function firstPage() {
  return null;
}

async function fetchPage(cursor) {
  const status = $("filter-status").value;
  const statuses = status === "" ? ["open", "claimed"] : status === "all" ? [] : [status];
  const queue = $("filter-queue").value;
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (queue) query.set("queue", queue);
  statuses.forEach((s) => query.append("status", s));
  if (cursor) query.set("cursor", cursor);
  const page = await call("GET", `v1/cases?${query}`);
  return { items: page.items, after: page.next_cursor || null };
}

async function loadPage() {
  const start = state.pages.length ? state.pages[state.pages.length - 1] : firstPage();
  const { items, after } = await fetchPage(start);
  state.items = items;
  state.after = after;
  const body = $("cases").querySelector("tbody");
  body.replaceChildren(...items.map((c) => el("tr", { "data-case": c.id, class: c.id === state.caseId ? "selected" : "", onclick: (event) => { if (!event.target.closest("a")) openCase(c.id); } },
    el("td", {}, el("a", { href: `#case=${c.id}`, class: "case-ref", title: c.id }, c.id.slice(0, 8))),
    el("td", {}, (c.registrations[0] && c.registrations[0].customer.name) || "–"),
    el("td", {}, c.queue),
    el("td", {}, c.status, " ", el("span", { class: `badge ${c.priority}` }, c.priority)),
    el("td", {}, c.registrations.map((r) => r.channel).join(" · ")),
    el("td", { title: when(c.sla_due_at) }, shortly(c.sla_due_at), " ", c.sla_breached ? el("span", { class: "badge breach" }, "breached") : null))));
  $("cases-empty").hidden = items.length > 0;
  const number = state.pages.length;
  const first = (number - 1) * PAGE_SIZE + 1;
  $("page-info").textContent = items.length ? `Page ${number} · cases ${first}–${first + items.length - 1}` : `Page ${number}`;
  $("prev-page").disabled = number <= 1;
  $("next-page").disabled = !state.after;
}

async function nextPage() {
  if (!state.after) return false;
  state.pages.push(state.after);
  await loadPage();
  $("cases").scrollIntoView({ block: "nearest" });
  return true;
}

async function previousPage() {
  if (state.pages.length <= 1) return false;
  state.pages.pop();
  await loadPage();
  return true;
}

// j / k: the next or previous case of the list, across pages.
async function move(step) {
  if (!state.items.length) return;
  const index = state.items.findIndex((c) => c.id === state.caseId);
  let target = index === -1 ? (step > 0 ? 0 : state.items.length - 1) : index + step;
  if (target >= state.items.length) {
    if (!(await nextPage())) return;
    target = 0;
  } else if (target < 0) {
    if (!(await previousPage())) return;
    target = state.items.length - 1;
  }
  await openCase(state.items[target].id, { replace: state.caseId !== null });
  const row = $("cases").querySelector(`tbody tr[data-case="${CSS.escape(state.items[target].id)}"]`);
  if (row) row.scrollIntoView({ block: "nearest" });
}

// --- one case ------------------------------------------------------------------------------------------

async function showCase(caseId) {
  let item;
  try {
    item = await call("GET", `v1/cases/${encodeURIComponent(caseId)}`);
  } catch (error) {
    say(error.status === 404 ? `There is no case ${caseId}.` : error.message, true);
    closeCase();
    return;
  }
  state.caseId = item.id;
  state.case = item;
  for (const row of $("cases").querySelectorAll("tbody tr")) row.classList.toggle("selected", row.dataset.case === item.id);
  $("desk").classList.add("with-case");
  $("case").hidden = false;
  $("case-title").textContent = `Case ${item.id}`;
  $("case-link").href = `#case=${encodeURIComponent(item.id)}`;
  $("case").dataset.status = item.status;

  const facts = [["Status", item.status + (item.claimed_by ? ` by ${item.claimed_by}` : "")], ["Queue", item.queue],
    ["Priority", item.priority], ["Opened", when(item.opened_at)],
    ["SLA due", when(item.sla_due_at) + (item.sla_breached ? " (breached)" : "")], ["Rules version", item.rules_version ?? "–"]];
  if (item.resolution) {
    const by = item.resolution.decided_by ? ` by ${item.resolution.decided_by}` : "";
    facts.push(["Decision", `${item.resolution.decision}${by}: ${item.resolution.note}`]);
  }
  $("case-facts").replaceChildren(...facts.map(([term, value]) => el("div", {}, el("dt", {}, term), el("dd", {}, value))));

  const recommendation = item.recommendation;
  $("recommendation").hidden = !recommendation;
  if (recommendation) {
    $("recommendation").replaceChildren(el("strong", {}, "Recommendation: "), `award ${member(item, recommendation.winner)} · `,
      recommendation.reason, el("span", { class: "muted" }, ` (rule ${recommendation.rule})`));
  }

  const marked = evidenceMarks(item.evidence);
  const open = item.status !== "resolved";
  $("registrations").replaceChildren(...item.registrations.map((r) => registrationCard(r, item, marked, open)));
  $("evidence").replaceChildren(...item.evidence.map((e) => evidenceBlock(e, item)));
  $("rules").replaceChildren(...(item.rules_applied || []).map((a) => el("li", {}, el("code", {}, a.rule), ": ", a.effect)));
  $("history").replaceChildren(...(item.history || []).map((h) => el("li", {}, `${when(h.at)} · ${h.action} by ${h.by}`, h.note ? ` · ${h.note}` : "")));
  $("claim").disabled = !open || item.status === "claimed";
  $("reject-all").disabled = !open;
  $("dismiss").disabled = !open;
  // On a narrow screen the case takes the list's place: start reading it from its top.
  if (getComputedStyle($("list-pane")).display === "none") $("case").scrollIntoView({ block: "start" });
}

// "reseller acme-1234" (or "direct") for a deal id of the case: its channel and partner say more than an id.
function member(item, dealId) {
  const r = item && item.registrations.find((x) => x.deal_id === dealId);
  if (!r) return String(dealId).slice(0, 8);
  return r.partner_id === r.channel ? r.channel : `${r.channel} ${r.partner_id}`;
}

function productTitles(item) {
  const titles = new Map();
  for (const r of item.registrations) {
    for (const p of (r.products || []).map(product)) if (p.title) titles.set(p.id, p.title);
  }
  return titles;
}

function evidenceMarks(evidence) {
  const tokens = new Set();
  const domains = new Set();
  const products = new Set();
  const identifiers = new Set();
  for (const pair of evidence) {
    (pair.shared_products || []).forEach((p) => products.add(p));
    for (const signal of pair.signals || []) {
      if (signal.kind === "name") {
        (signal.shared_tokens || []).forEach((t) => tokens.add(t));
        (signal.fuzzy_tokens || []).forEach(([a, b]) => { tokens.add(a); tokens.add(b); });
      }
      if (signal.kind === "domain" && signal.relation !== "different" && signal.value) domains.add(signal.value);
      if ((signal.kind === "tax_id" || signal.kind === "duns") && signal.relation === "same") {
        identifiers.add(fold(signal.left)); identifiers.add(fold(signal.right));
      }
    }
  }
  return { tokens, domains, products, identifiers };
}

function registrationCard(registration, item, marked, open) {
  const customer = registration.customer || {};
  const recommended = item.recommendation && item.recommendation.winner === registration.deal_id;
  const winner = item.resolution && item.resolution.winner === registration.deal_id;
  const domainMatches = customer.domain && [...marked.domains].some((d) => customer.domain.toLowerCase().includes(d));
  const markIf = (value, hit) => (value ? (hit ? el("mark", {}, value) : value) : "–");
  const field = (term, value) => [el("dt", {}, term), el("dd", {}, value)];
  const products = (registration.products || []).map(product).flatMap((p, i) => {
    const name = p.title || p.id;
    return [i ? ", " : "", marked.products.has(p.id) ? el("mark", { title: p.id }, name) : el("span", { title: p.id }, name)];
  });
  return el("article", { class: `registration${recommended ? " recommended" : ""}${winner ? " winner" : ""}`, "data-deal": registration.deal_id },
    el("h4", {}, `${registration.channel} · ${registration.partner_id}`,
      registration.status ? el("span", { class: `badge deal-status ${registration.status}`, "data-status": registration.status }, registration.status) : null),
    el("dl", {},
      field("Customer", highlighted(customer.name, marked.tokens)),
      field("Domain", markIf(customer.domain, domainMatches)),
      field("Country", customer.country || "–"),
      field("Tax id", markIf(customer.tax_id, customer.tax_id && marked.identifiers.has(fold(customer.tax_id)))),
      field("DUNS", markIf(customer.duns, customer.duns && marked.identifiers.has(fold(customer.duns)))),
      field("Products", el("span", { class: "products" }, products)),
      field("Amount", `${registration.amount.amount} ${registration.amount.currency}`),
      field("Submitted", when(registration.submitted_at)),
      field("Deal", registration.deal_id)),
    open ? el("button", { type: "button", class: "award", "data-deal": registration.deal_id, onclick: () => decide("award", registration.deal_id) }, "Award to this one") : null,
    winner ? el("p", { class: "muted" }, "Awarded") : null);
}

function evidenceBlock(pair, item) {
  const label = (dealId) => {
    const r = item.registrations.find((x) => x.deal_id === dealId);
    return r ? `${r.channel} ${dealId.slice(0, 8)}` : dealId.slice(0, 8);
  };
  const titles = productTitles(item);
  const lines = (pair.signals || []).map((signal) => {
    const weight = signal.weight !== undefined ? ` (${signal.weight > 0 ? "+" : ""}${signal.weight})` : "";
    switch (signal.kind) {
      case "domain": return el("li", {}, "Domain ", signal.relation.replace(/_/g, " "), signal.value ? [": ", el("mark", {}, signal.value)] : "", weight);
      case "name": return el("li", {}, `Name similarity ${signal.similarity} (${signal.method})`,
        signal.shared_tokens && signal.shared_tokens.length ? [" · shared tokens: ", ...signal.shared_tokens.flatMap((t, i) => [i ? " " : "", el("mark", {}, t)])] : "",
        signal.fuzzy_tokens && signal.fuzzy_tokens.length ? [" · near: ", signal.fuzzy_tokens.map(([a, b]) => `${a}≈${b}`).join(", ")] : "", weight);
      case "country": return el("li", {}, `Country ${signal.relation}: ${signal.left} / ${signal.right}`, weight);
      case "tax_id": return el("li", {}, `Tax id ${signal.relation}: ${signal.left} / ${signal.right}`, weight);
      case "duns": return el("li", {}, `DUNS ${signal.relation}: ${signal.left} / ${signal.right}`, weight);
      case "free_mail": return el("li", { class: "muted" }, `Free-mail ${signal.value} ignored (${signal.side} ${signal.field})`);
      default: return el("li", {}, signal.kind, weight);
    }
  });
  return el("div", { class: "pair" },
    el("strong", {}, `${label(pair.deal_ids[0])} ↔ ${label(pair.deal_ids[1])}`), " ",
    el("span", { class: `badge ${pair.band}` }, `${pair.band} · score ${pair.score}`),
    " · shared products: ", (pair.shared_products || []).flatMap((p, i) => [i ? ", " : "", el("mark", { title: p }, titles.get(p) || p)]),
    el("ul", {}, lines));
}

async function decide(decision, winner) {
  const note = $("note").value.trim();
  if (!note) {
    say("Write a note first: every decision records why.", true);
    $("note").focus();
    return;
  }
  const body = { decision, note };
  if (winner) body.winner = winner;
  try {
    await call("POST", `v1/cases/${encodeURIComponent(state.caseId)}/resolve`, body);
    $("note").value = "";
    say(decision === "award" ? `Awarded to ${member(state.case, winner)}; the others are rejected.` : `Case resolved: ${decision.replace("_", " ")}.`);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

async function claim() {
  if (!state.caseId || $("claim").disabled) return;
  try {
    await call("POST", `v1/cases/${encodeURIComponent(state.caseId)}/claim`);
    say("Claimed.");
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

function onKey(event) {
  if (!state.token || state.view !== "cases" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest && event.target.closest("input, textarea, select")) return;
  const actions = { j: () => move(1), k: () => move(-1), c: () => claim(), Escape: () => closeCase() };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  // One key after the other: a second j pressed while the first one's case loads moves on from that case.
  state.keys = state.keys.then(action).catch((error) => say(error.message, true));
}

// --- leads (issue 18): GET v1/leads, conflict's board of deals.leads.v1 -----------------------------------

async function loadLeads() {
  const query = new URLSearchParams({ limit: "100" });
  if ($("leads-status").value) query.set("status", $("leads-status").value);
  $("leads").dataset.loaded = "false";
  let answer;
  try {
    answer = await call("GET", `v1/leads?${query}`);
  } catch (error) {
    say(`Leads: ${error.message}`, true);
    return;
  }
  const figures = answer.figures;
  const spread = figures.time_to_accept_hours;
  const tiles = [["Leads", figures.leads], ["Accepted", percent(figures.acceptance_rate)],
    ["Reassignments", figures.reassignments], ["Time to accept p50", spread.median === null ? "–" : `${spread.median} h`],
    ...Object.entries(figures.by_tier).map(([tier, row]) => [`${tier}: accepted / assigned`, `${row.accepted} / ${row.assigned}`]),
    ...Object.entries(figures.by_channel).map(([channel, row]) => [`${channel}: accepted / assigned`, `${row.accepted} / ${row.assigned}`])];
  $("leads-tiles").replaceChildren(...tiles.map(([label, value]) => el("div", { class: "tile" }, el("span", { class: "tile-value" }, String(value)), el("span", { class: "muted" }, label))));
  $("leads-table").tBodies[0].replaceChildren(...answer.items.map(leadRow));
  $("leads").dataset.loaded = "true";
}

function leadRow(lead) {
  const attempts = lead.attempts || [];
  // a lead in the desk's queue says why it is there; otherwise the current (or accepted) assignment's reasons
  const current = lead.status === "unassigned" ? null : attempts[attempts.length - 1];
  const why = current ? el("div", {},
    el("strong", {}, current.basis), current.score !== null && current.score !== undefined ? ` · score ${current.score}` : "",
    el("ul", { class: "plain reasons" }, ...(current.reasons || []).map((r) =>
      el("li", {}, el("code", {}, r.factor), r.points !== null && r.points !== undefined ? ` ${r.points} · ` : " · ", r.basis || "")))) : el("span", { class: "muted" }, lead.desk_reason || "–");
  const holder = lead.assignee ? `${lead.assignee}${current && current.tier ? ` (${current.tier})` : ""}` : "desk queue";
  const passes = attempts.filter((a) => a.outcome === "declined" || a.outcome === "expired")
    .map((a) => `${a.partner_id}: ${a.outcome}`).join(", ");
  return el("tr", { "data-lead": lead.id },
    el("td", {}, when(lead.created_at)),
    el("td", {}, `${(lead.customer || {}).name || "–"} · ${(lead.customer || {}).country || ""}`),
    el("td", {}, el("span", { class: `badge lead-status ${lead.status}` }, lead.status)),
    el("td", {}, lead.status === "accepted" && current ? current.partner_id : holder),
    el("td", {}, why),
    el("td", {}, passes || "–"));
}

// --- analytics -------------------------------------------------------------------------------------------

const CHANNEL_COLOURS = { reseller: "#2457c5", distributor: "#7a5af5", msp: "#0e9384", marketplace: "#dc6803", direct: "#c01048" };

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

async function loadAnalytics() {
  if (!$("an-from").value || !$("an-to").value) {
    const today = new Date();
    $("an-to").value = isoDay(today);
    $("an-from").value = isoDay(new Date(today.getTime() - 90 * 86400000));
  }
  const query = new URLSearchParams({ from: $("an-from").value, to: $("an-to").value });
  if ($("an-region").value) query.set("region", $("an-region").value);
  $("analytics").dataset.loaded = "false";
  let answer;
  try {
    answer = await call("GET", `v1/analytics?${query}`);
  } catch (error) {
    say(`Analytics: ${error.message}`, true);
    return;
  }
  state.analyticsLoaded = true;
  $("an-window").textContent = `${when(answer.from)} – ${when(answer.to)}${answer.region ? ` · ${answer.region}` : ""}`;
  drawTiles(answer);
  if (typeof Chart === "undefined") {
    say("The charting library did not load; the figures are in the tiles and the partner table.", true);
  } else {
    drawPairs(answer.conflicts.by_channel_pair);
    drawDecisions(answer.decisions.over_time);
    drawSla(answer.sla.by_queue);
    drawChannels(answer.registrations.by_channel, answer.decisions.awards_by_channel);
  }
  drawPartners(answer.partners);
  $("analytics").dataset.loaded = "true";
}

function drawTiles(answer) {
  const spread = answer.decisions.time_to_decision_s;
  const tiles = [["Registrations", answer.registrations.total], ["Cases", answer.conflicts.cases],
    ["Time to decision p50", age(spread.p50)], ["p90", age(spread.p90)], ["Longest", age(spread.max)],
    ["SLA met", answer.sla.met], ["SLA breached", answer.sla.breached], ["Breach rate", percent(answer.sla.breach_rate)]];
  $("an-tiles").replaceChildren(...tiles.map(([label, value]) => el("div", { class: "tile" }, el("span", { class: "tile-value" }, value), el("span", { class: "muted" }, label))));
}

// One chart per canvas: the old one goes before a new one is drawn. The canvas says in words what it shows.
function chart(id, config, summary, points) {
  if (state.charts[id]) state.charts[id].destroy();
  const canvas = $(id);
  const base = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } };
  state.charts[id] = new Chart(canvas, { ...config, options: { ...base, ...config.options, plugins: { ...base.plugins, ...(config.options || {}).plugins } } });
  canvas.setAttribute("aria-label", summary);
  canvas.dataset.points = String(points);
}

function drawPairs(pairs) {
  const labels = pairs.map((p) => p.pair.join(" / "));
  chart("chart-pairs", {
    type: "bar",
    data: { labels, datasets: [{ label: "conflict rate (%)", data: pairs.map((p) => (p.rate === null ? null : +(p.rate * 100).toFixed(2))), backgroundColor: "#2457c5" }] },
    options: {
      indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: "% of the pair's registrations" } } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (context) => `${pairs[context.dataIndex].cases} cases / ${pairs[context.dataIndex].registrations} registrations` } } },
    },
  }, pairs.length ? pairs.map((p) => `${p.pair.join(" / ")} ${percent(p.rate)}`).join("; ") : "No channel conflicts in this window.", pairs.length);
}

// Times in the unit that suits the longest of them: seconds, minutes, hours or days.
function timeUnit(seconds) {
  const longest = Math.max(0, ...seconds.filter((s) => s !== null));
  if (longest < 120) return { name: "seconds", short: "s", size: 1 };
  if (longest < 7200) return { name: "minutes", short: "min", size: 60 };
  if (longest < 172800) return { name: "hours", short: "h", size: 3600 };
  return { name: "days", short: "d", size: 86400 };
}

function drawDecisions(days) {
  const unit = timeUnit(days.map((d) => d.p90));
  const scaled = (seconds) => (seconds === null ? null : +(seconds / unit.size).toFixed(2));
  chart("chart-decisions", {
    type: "line",
    data: {
      labels: days.map((d) => d.date),
      datasets: [
        { label: `median (${unit.short})`, data: days.map((d) => scaled(d.p50)), borderColor: "#2457c5", backgroundColor: "#2457c5" },
        { label: `90th percentile (${unit.short})`, data: days.map((d) => scaled(d.p90)), borderColor: "#dc6803", backgroundColor: "#dc6803" },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: unit.name } } } },
  }, days.length ? days.map((d) => `${d.date}: ${d.decisions} decisions, median ${age(d.p50)}`).join("; ") : "No decisions in this window.", days.length);
}

function drawSla(queues) {
  chart("chart-sla", {
    type: "bar",
    data: {
      labels: queues.map((q) => q.queue),
      datasets: [
        { label: "met", data: queues.map((q) => q.met), backgroundColor: "#067647" },
        { label: "breached", data: queues.map((q) => q.breached), backgroundColor: "#b42318" },
        { label: "pending", data: queues.map((q) => q.pending), backgroundColor: "#98a2b3" },
      ],
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  }, queues.length ? queues.map((q) => `${q.queue}: ${q.breached} breached, ${q.met} met`).join("; ") : "No cases in this window.", queues.length);
}

function drawChannels(registrations, awards) {
  const channels = [...new Set([...Object.keys(registrations), ...Object.keys(awards)])];
  chart("chart-channels", {
    type: "bar",
    data: {
      labels: channels,
      datasets: [
        { label: "registrations", data: channels.map((c) => registrations[c] || 0), backgroundColor: channels.map((c) => CHANNEL_COLOURS[c] || "#667085") },
        { label: "awards won", data: channels.map((c) => awards[c] || 0), backgroundColor: "#fdb022" },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  }, channels.map((c) => `${c}: ${registrations[c] || 0} registrations, ${awards[c] || 0} awards`).join("; ") || "No registrations in this window.", channels.length);
}

function drawPartners(partners) {
  $("an-partners").querySelector("tbody").replaceChildren(...partners.map((p) => el("tr", { "data-partner": p.partner_id },
    el("td", {}, p.partner_id), el("td", {}, p.channel), el("td", {}, p.registrations), el("td", {}, p.conflicts),
    el("td", {}, percent(p.conflict_rate)), el("td", {}, p.awards), el("td", {}, percent(p.award_rate)))));
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value); });
  $("signout").addEventListener("click", signOut);
  $("refresh").addEventListener("click", () => refresh());
  $("filter-queue").addEventListener("change", filtersChanged);
  $("filter-status").addEventListener("change", filtersChanged);
  $("prev-page").addEventListener("click", () => previousPage().catch((error) => say(error.message, true)));
  $("next-page").addEventListener("click", () => nextPage().catch((error) => say(error.message, true)));
  $("back").addEventListener("click", () => closeCase());
  $("claim").addEventListener("click", claim);
  $("reject-all").addEventListener("click", () => decide("reject_all"));
  $("dismiss").addEventListener("click", () => decide("dismiss"));
  $("analytics-filters").addEventListener("submit", (event) => { event.preventDefault(); loadAnalytics(); });
  $("leads-status").addEventListener("change", () => loadLeads());
  document.addEventListener("keydown", onKey);
  // popstate, not hashchange: it comes with every move to another #fragment and with Back / Forward between
  // entries the page pushed itself (closing a case), which hashchange may not.
  window.addEventListener("popstate", () => route().catch((error) => say(error.message, true)));
  $("sso-signin").addEventListener("click", () => deskOidc.begin().catch((error) => say(`Sign-in failed: ${error.message}`, true)));
  deskOidc.load().then(async () => {
    showSignIn();
    const fromIssuer = await deskOidc.complete();
    const saved = fromIssuer || sessionStorage.getItem(TOKEN_KEY);
    if (saved) await signIn(saved);
  }).catch((error) => say(`Sign-in failed: ${error.message}`, true));
});
