// Longhaul's pages: start a generation, watch it, read the result. No framework, no build step:
// every URL is relative to the page's <base>, so the pages work wherever the app is mounted.
"use strict";

const POLL_MS = 2500; // people look every few seconds; the status endpoint answers 304 in between
const MAX_BACKOFF_MS = 20000;
const EVENTS_PAGE_SIZE = 50;

const byId = (id) => document.getElementById(id);

function api(path, options = {}) {
  return fetch("api/" + path, { cache: "no-store", ...options });
}

function money(cents, currency) {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
}

function seconds(total) {
  const minutes = Math.floor(total / 60);
  return minutes ? `${minutes}m ${String(total % 60).padStart(2, "0")}s` : `${total}s`;
}

function show(element, visible) {
  element.hidden = !visible;
}

function cell(row, text, header = false) {
  const node = document.createElement(header ? "th" : "td");
  node.textContent = text;
  if (header) node.scope = row.parentElement && row.parentElement.tagName === "THEAD" ? "col" : "row";
  row.appendChild(node);
  return node;
}

function fillTable(table, headings, rows) {
  for (const old of table.querySelectorAll("thead, tbody")) old.remove();
  const head = table.createTHead().insertRow();
  for (const heading of headings) cell(head, heading, true);
  const body = table.createTBody();
  for (const values of rows) {
    const row = body.insertRow();
    values.forEach((value) => cell(row, value));
  }
}

// ---- The start page: choose, generate, watch. ----

function startPage() {
  const form = byId("generate-form");
  const formError = byId("form-error");
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    show(formError, false);
    const data = new FormData(form);
    const body = { scenarioType: data.get("scenarioType") };
    if (data.get("seed")) body.seed = Number(data.get("seed"));
    byId("generate").disabled = true;
    try {
      const response = await api("generate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (response.status === 202) {
        watch(answer.scenarioId);
        return;
      }
      if (response.status === 429) {
        formError.textContent = `Too many generations right now: try again in ${answer.retryAfter || response.headers.get("Retry-After")} s.`;
      } else if (answer.fields) {
        formError.textContent = answer.fields.map((f) => `${f.field}: ${f.reason}`).join("; ");
      } else {
        formError.textContent = answer.error || `The server answered ${response.status}.`;
      }
    } catch (error) {
      formError.textContent = "The server cannot be reached. Check your connection and try again.";
    } finally {
      byId("generate").disabled = false;
    }
    show(formError, true);
  });

  const resumed = new URLSearchParams(location.search).get("scenario");
  if (resumed) watch(resumed);
}

function watch(scenarioId) {
  history.replaceState(null, "", "?scenario=" + encodeURIComponent(scenarioId));
  show(byId("choose"), false);
  show(byId("watch"), true);
  show(byId("failure"), false);
  byId("watch-link").href = "?scenario=" + encodeURIComponent(scenarioId);
  byId("watch-title").focus?.();

  let etag = null;
  let delay = POLL_MS;
  let createdAt = null;
  let timer = null;
  const elapsed = setInterval(() => {
    if (createdAt) byId("elapsed").textContent = seconds(Math.max(0, Math.round((Date.now() - createdAt) / 1000)));
  }, 1000);

  const connection = byId("connection");
  const later = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  };

  function render(status) {
    const bar = byId("progress");
    bar.setAttribute("aria-valuenow", String(status.progress));
    bar.setAttribute("aria-valuetext", `${status.progress}%: ${status.message}`);
    byId("progress-fill").style.width = `${status.progress}%`;
    byId("percent").textContent = `${status.progress}%`;
    byId("stage-message").textContent = status.message;
    createdAt = Date.parse(status.createdAt);
  }

  async function poll() {
    try {
      const response = await api("status/" + encodeURIComponent(scenarioId), {
        headers: etag ? { "If-None-Match": etag } : {},
      });
      if (response.status === 304) {
        show(connection, false);
        delay = POLL_MS;
        later(POLL_MS);
        return;
      }
      if (response.status === 404) {
        stop();
        byId("stage-message").textContent = "There is no such scenario.";
        return;
      }
      if (!response.ok) throw new Error(`status ${response.status}`);
      etag = response.headers.get("ETag");
      const status = await response.json();
      show(connection, false);
      delay = POLL_MS;
      render(status);
      if (status.status === "completed") {
        stop();
        location.assign("scenarios/" + encodeURIComponent(scenarioId));
      } else if (status.status === "failed") {
        stop();
        byId("failure-message").textContent = status.error || "unknown error";
        show(byId("failure"), true);
        byId("try-again").focus();
      } else {
        later(POLL_MS);
      }
    } catch (error) {
      // Keep trying, further apart each time, and say so: the generation goes on server-side.
      delay = Math.min(delay * 2, MAX_BACKOFF_MS);
      connection.textContent = `The server cannot be reached. Trying again in ${Math.round(delay / 1000)} s...`;
      show(connection, true);
      later(delay);
    }
  }

  function stop() {
    clearTimeout(timer);
    clearInterval(elapsed);
  }

  let retrying = false; // one retry at a time: a second would only be refused (409)
  byId("try-again").onclick = async () => {
    if (retrying) return;
    retrying = true;
    try {
      const retry = await api(`scenarios/${encodeURIComponent(scenarioId)}/retry`, { method: "POST" });
      if (retry.status === 202) {
        watch(scenarioId);
      } else {
        const answer = await retry.json().catch(() => ({}));
        byId("failure-message").textContent = answer.error || `retry refused (${retry.status})`;
      }
    } catch (error) {
      byId("failure-message").textContent = "The server cannot be reached. Try again in a moment.";
    } finally {
      retrying = false;
    }
  };

  poll();
}

// ---- The results page. ----

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function trendsChart(trends, currency) {
  const width = 760, height = 300, left = 80, right = 20, top = 20, bottom = 40;
  const values = trends.flatMap((t) => [t.revenue_cents, t.expenses_cents, t.closing_cash_cents, 0]);
  const low = Math.min(...values), high = Math.max(...values);
  const y = (v) => top + (height - top - bottom) * (1 - (v - low) / (high - low || 1));
  const slot = (width - left - right) / trends.length;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "trends-chart-title",
    class: "chart",
  });
  svg("title", { id: "trends-chart-title" }, chart).textContent =
    `Revenue, expenses and closing cash for each of ${trends.length} months`;
  for (let i = 0; i <= 4; i++) {
    const value = low + ((high - low) * i) / 4;
    svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }, chart);
    const label = svg("text", { x: left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, chart);
    label.textContent = money(Math.round(value), currency).replace(/\.\d+$/, "");
  }
  const points = [];
  trends.forEach((trend, i) => {
    const x = left + slot * i;
    const bar = slot * 0.35;
    const base = y(0);
    for (const [value, kind, offset] of [[trend.revenue_cents, "revenue", 0.12], [trend.expenses_cents, "expenses", 0.5]]) {
      const rect = svg("rect", {
        x: x + slot * offset, width: bar, y: Math.min(y(value), base),
        height: Math.abs(base - y(value)), class: kind,
      }, chart);
      svg("title", {}, rect).textContent = `${trend.month_name} ${kind}: ${money(value, currency)}`;
    }
    points.push(`${x + slot / 2},${y(trend.closing_cash_cents)}`);
    const label = svg("text", { x: x + slot / 2, y: height - bottom + 16, class: "axis", "text-anchor": "middle" }, chart);
    label.textContent = trend.month_name.slice(0, 3);
  });
  svg("polyline", { points: points.join(" "), class: "cash" }, chart);
  const legend = [["revenue", "Revenue"], ["expenses", "Expenses"], ["cash", "Closing cash"]];
  legend.forEach(([kind, text], i) => {
    svg("rect", { x: left + i * 140, y: height - 14, width: 12, height: 12, class: `key-${kind}` }, chart);
    svg("text", { x: left + i * 140 + 18, y: height - 4, class: "axis" }, chart).textContent = text;
  });
  return chart;
}

async function resultsPage() {
  const scenarioId = location.pathname.split("/").filter(Boolean).pop();
  const article = byId("scenario");
  const loadError = byId("load-error");
  let scenario;
  try {
    const response = await api("scenarios/" + encodeURIComponent(scenarioId));
    if (response.status === 404) throw new Error("There is no such scenario.");
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    scenario = await response.json();
  } catch (error) {
    loadError.textContent = error instanceof TypeError ? "The server cannot be reached." : error.message;
    show(loadError, true);
    article.setAttribute("aria-busy", "false");
    byId("company-name").textContent = "Scenario unavailable";
    return;
  }
  if (scenario.status !== "completed") {
    // Not finished yet: watch it instead.
    location.replace("./?scenario=" + encodeURIComponent(scenarioId));
    return;
  }
  const profile = scenario.profile;
  const currency = profile.currency;
  document.title = `Longhaul — ${profile.name}`;
  byId("company-name").textContent = profile.name;
  byId("company-summary").textContent =
    `${profile.industry} · ${profile.city}, ${profile.country} · founded ${profile.founded_year} · ${profile.fiscal_year} simulated`;
  byId("company-description").textContent = profile.description;

  const totals = byId("totals");
  const rows = [
    ["Events", scenario.totals.events_count.toLocaleString()],
    ["Money in", money(scenario.totals.total_inflow_cents, currency)],
    ["Money out", money(scenario.totals.total_outflow_cents, currency)],
    ["Cash at year end", money(scenario.totals.final_cash_cents, currency)],
  ];
  for (const [term, value] of rows) {
    const wrap = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    wrap.append(dt, dd);
    totals.appendChild(wrap);
  }

  byId("trends-chart").appendChild(trendsChart(scenario.trends, currency));
  fillTable(
    byId("trends-table"),
    ["Month", "Revenue", "Expenses", "Funding", "Closing cash", "Headcount"],
    scenario.trends.map((t) => [
      t.month_name, money(t.revenue_cents, currency), money(t.expenses_cents, currency),
      money(t.funding_cents, currency), money(t.closing_cash_cents, currency), String(t.headcount),
    ]),
  );

  const checks = scenario.validation.checks;
  const failures = checks.filter((check) => !check.ok);
  byId("validation-summary").textContent = scenario.validation.ok
    ? `All ${checks.length} consistency checks passed: every month's events add up to its trend.`
    : `${failures.length} of ${checks.length} checks failed.`;
  for (const check of failures) {
    const item = document.createElement("li");
    item.textContent = check.message;
    byId("validation-failures").appendChild(item);
  }

  article.setAttribute("aria-busy", "false");
  eventsPager(scenarioId, currency, profile.fiscal_year);
}

function eventsPager(scenarioId, currency, year) {
  const cursors = [null]; // cursors[n] opens page n + 1
  let shown = 0; // the page on screen
  let hasNext = false; // whether the page on screen has one after it
  let latest = 0; // numbers each load: only the newest one may change the page
  const previous = byId("events-previous");
  const next = byId("events-next");
  const label = byId("events-page");
  const pagerError = byId("events-error");

  async function fetchPage(page) {
    const cursor = cursors[page];
    const query = `limit=${EVENTS_PAGE_SIZE}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");
    let response;
    try {
      response = await api(`scenarios/${encodeURIComponent(scenarioId)}/events?${query}`);
    } catch (error) {
      throw new Error("the server cannot be reached");
    }
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const answer = await response.json().catch(() => null);
    if (!answer || !Array.isArray(answer.events)) throw new Error("the server's answer is unreadable");
    return answer;
  }

  async function load(page) {
    const ticket = ++latest;
    const focused = [previous, next].find((button) => button === document.activeElement);
    // Both buttons wait for this page: a second click now would move from a page not yet known.
    previous.disabled = true;
    next.disabled = true;
    show(pagerError, false);
    label.textContent = `Loading page ${page + 1}...`;
    try {
      const answer = await fetchPage(page);
      if (ticket !== latest) return;
      fillTable(
        byId("events-table"),
        ["Event", "Date", "Type", "Amount", "Description", "Counterparty"],
        answer.events.map((e) => [
          e.event_id,
          `${year}-${String(e.month).padStart(2, "0")}-${String(e.day).padStart(2, "0")}`,
          e.event_type.replaceAll("_", " "),
          (e.category === "outflow" ? "−" : "+") + money(e.amount_cents, currency),
          e.description,
          e.counterparty,
        ]),
      );
      cursors[page + 1] = answer.nextCursor;
      shown = page;
      hasNext = Boolean(answer.nextCursor) && answer.events.length >= EVENTS_PAGE_SIZE;
    } catch (error) {
      if (ticket !== latest) return;
      // The page on screen stays, with its buttons, so the reader can simply try again.
      pagerError.textContent = `Page ${page + 1} cannot be loaded: ${error.message}. Try again in a moment.`;
      show(pagerError, true);
    } finally {
      if (ticket === latest) {
        previous.disabled = shown === 0;
        next.disabled = !hasNext;
        label.textContent = `Page ${shown + 1}`;
        // Disabling the clicked button dropped the keyboard focus; give it back to the pager.
        if (focused && document.activeElement === document.body) {
          [focused, next, previous].find((button) => !button.disabled)?.focus();
        }
      }
    }
  }

  previous.onclick = () => load(shown - 1);
  next.onclick = () => load(shown + 1);
  load(0);
}

document.addEventListener("DOMContentLoaded", () => {
  if (document.body.dataset.page === "start") startPage();
  if (document.body.dataset.page === "results") resultsPage();
});
