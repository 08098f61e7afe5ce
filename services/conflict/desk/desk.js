// The channel desk: queues, cases, evidence side by side, and claim / award / reject / dismiss.
// Every value shown comes from partners, so the page builds DOM nodes with textContent only (never innerHTML).
"use strict";

const TOKEN_KEY = "dealgate.desk.token";
const REFRESH_MS = 15000;
const state = { token: null, caseId: null, timer: null };
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
  const response = await fetch(path, options);
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

// Folded the way the matcher folds names: accents off, lower case, letters and digits only.
function fold(word) {
  return word.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

function highlighted(text, tokens) {
  if (!text) return "–";
  const parts = String(text).split(/(\s+)/);
  return el("span", {}, parts.map((part) => (tokens.has(fold(part)) ? el("mark", {}, part) : part)));
}

// --- sign in -------------------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token.trim();
  try {
    await call("GET", "/v1/queues");
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    say(error.status === 403 ? "That token may not use the desk (it needs the desk or admin role)." : `Sign-in failed: ${error.message}`, true);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  $("signin").hidden = true;
  $("signed-in").hidden = false;
  $("desk").hidden = false;
  $("who").textContent = describeToken(state.token);
  say("Signed in.");
  await refresh();
  clearInterval(state.timer);
  state.timer = setInterval(() => refresh().catch(() => {}), REFRESH_MS);
}

function describeToken(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return `${claims.sub} (${claims.role})`;
  } catch (_error) {
    return "signed in";
  }
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.caseId = null;
  clearInterval(state.timer);
  $("desk").hidden = true;
  $("signed-in").hidden = true;
  $("signin").hidden = false;
  $("token").value = "";
  say("Signed out.");
}

// --- queues and cases ----------------------------------------------------------------------------------

async function refresh() {
  try {
    await Promise.all([loadQueues(), loadCases()]);
    if (state.caseId) await showCase(state.caseId);
  } catch (error) {
    say(error.message, true);
  }
}

async function loadQueues() {
  const queues = await call("GET", "/v1/queues");
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
  loadCases().catch((error) => say(error.message, true));
}

async function loadCases() {
  const queue = $("filter-queue").value;
  const status = $("filter-status").value;
  const statuses = status === "" ? ["open", "claimed"] : status === "all" ? [""] : [status];
  const items = [];
  for (const wanted of statuses) {
    const query = new URLSearchParams({ limit: "200" });
    if (queue) query.set("queue", queue);
    if (wanted) query.set("status", wanted);
    items.push(...(await call("GET", `/v1/cases?${query}`)).items);
  }
  items.sort((a, b) => (a.opened_at < b.opened_at ? 1 : -1));
  const body = $("cases").querySelector("tbody");
  body.replaceChildren(...items.map((c) => el("tr", { "data-case": c.id, class: c.id === state.caseId ? "selected" : "", onclick: () => showCase(c.id) },
    el("td", {}, c.id.slice(0, 8)),
    el("td", {}, (c.registrations[0] && c.registrations[0].customer.name) || "–"),
    el("td", {}, c.queue),
    el("td", {}, el("span", { class: `badge ${c.priority}` }, c.priority)),
    el("td", {}, c.status),
    el("td", {}, c.registrations.map((r) => r.channel).join(" · ")),
    el("td", {}, when(c.sla_due_at), " ", c.sla_breached ? el("span", { class: "badge breach" }, "SLA breached") : null))));
  $("cases-empty").hidden = items.length > 0;
}

// --- one case ------------------------------------------------------------------------------------------

async function showCase(caseId) {
  const item = await call("GET", `/v1/cases/${encodeURIComponent(caseId)}`);
  state.caseId = item.id;
  for (const row of $("cases").querySelectorAll("tbody tr")) row.classList.toggle("selected", row.dataset.case === item.id);
  $("case").hidden = false;
  $("case-title").textContent = `Case ${item.id}`;
  $("case").dataset.status = item.status;

  const facts = [["Status", item.status + (item.claimed_by ? ` by ${item.claimed_by}` : "")], ["Queue", item.queue],
    ["Priority", item.priority], ["Opened", when(item.opened_at)],
    ["SLA due", when(item.sla_due_at) + (item.sla_breached ? " (breached)" : "")], ["Rules version", item.rules_version ?? "–"]];
  if (item.resolution) facts.push(["Decision", `${item.resolution.decision} by ${item.resolution.decided_by}: ${item.resolution.note}`]);
  $("case-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));

  const recommendation = item.recommendation;
  $("recommendation").hidden = !recommendation;
  if (recommendation) {
    $("recommendation").replaceChildren(el("strong", {}, "Recommendation: "), `award ${recommendation.winner.slice(0, 8)} · `,
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
  return el("article", { class: `registration${recommended ? " recommended" : ""}${winner ? " winner" : ""}`, "data-deal": registration.deal_id },
    el("h4", {}, `${registration.channel} · ${registration.partner_id}`),
    el("dl", {},
      field("Customer", highlighted(customer.name, marked.tokens)),
      field("Domain", markIf(customer.domain, domainMatches)),
      field("Country", customer.country || "–"),
      field("Tax id", markIf(customer.tax_id, customer.tax_id && marked.identifiers.has(fold(customer.tax_id)))),
      field("DUNS", markIf(customer.duns, customer.duns && marked.identifiers.has(fold(customer.duns)))),
      field("Products", el("span", {}, (registration.products || []).flatMap((p, i) => [i ? ", " : "", marked.products.has(p) ? el("mark", {}, p) : p]))),
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
    " · shared products: ", (pair.shared_products || []).flatMap((p, i) => [i ? ", " : "", el("mark", {}, p)]),
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
    await call("POST", `/v1/cases/${encodeURIComponent(state.caseId)}/resolve`, body);
    $("note").value = "";
    say(decision === "award" ? `Awarded to ${winner.slice(0, 8)}; the others are rejected.` : `Case resolved: ${decision.replace("_", " ")}.`);
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

async function claim() {
  try {
    await call("POST", `/v1/cases/${encodeURIComponent(state.caseId)}/claim`);
    say("Claimed.");
    await refresh();
  } catch (error) {
    say(error.message, true);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token").value); });
  $("signout").addEventListener("click", signOut);
  $("refresh").addEventListener("click", () => refresh());
  $("filter-queue").addEventListener("change", () => loadCases().catch((error) => say(error.message, true)));
  $("filter-status").addEventListener("change", () => loadCases().catch((error) => say(error.message, true)));
  $("claim").addEventListener("click", claim);
  $("reject-all").addEventListener("click", () => decide("reject_all"));
  $("dismiss").addEventListener("click", () => decide("dismiss"));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
});
