// Drive Debian's Chromium (playwright-core) through every page of a running dashboard.
// Usage: node e2e/run.mjs --base http://127.0.0.1:3000 --user U --password P --out test-results [--ticker] [--live-alert]
// With --live-alert it opens the Alerts page, waits for the sidecar connection, prints the line
// "READY live-alert" and waits for an alert pushed live (the caller stores one when it reads that line).
// Prints one JSON object: per page its charts (data-points attribute, the SVG marks actually drawn and the
// markers such as VaR exceptions), its panels (title, note, table rows, KPI tiles), empty states, LCP (ms),
// the screenshot path; the wrong-password check; the live-ticker check.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]?.startsWith("--") || all[i + 1] === undefined ? "1" : all[i + 1]]] : acc), []),
);
const base = args.base ?? "http://127.0.0.1:3000";
const out = path.resolve(args.out ?? "test-results");
const user = args.user ?? process.env.DASHBOARD_E2E_USER;
const password = args.password ?? process.env.DASHBOARD_E2E_PASSWORD;
const PAGES = [
  { name: "overview", path: "/" },
  { name: "options", path: "/options" },
  { name: "models", path: "/models" },
  { name: "risk", path: "/risk" },
  { name: "quality", path: "/quality" },
  { name: "alerts", path: "/alerts" },
];
export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];

mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_FLAGS });
const result = { base, pages: {}, wrongPassword: null, ticker: null, consoleErrors: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") result.consoleErrors.push(m.text().slice(0, 300)); });
  await page.addInitScript(() => {
    window.__lcp = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__lcp = e.startTime; }).observe({ type: "largest-contentful-paint", buffered: true });
  });

  // a wrong password is refused: the error shows, no session cookie is set, pages stay closed
  await page.goto(`${base}/sign-in`);
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", password + "-wrong");
  await Promise.all([page.waitForURL(/\/sign-in\?error=/), page.click("button[type=submit]")]);
  const errorText = await page.textContent("[data-testid=sign-in-error]").catch(() => null);
  const cookiesAfterWrong = (await context.cookies()).filter((c) => c.name === "cd_session").length;
  const api = await page.request.get(`${base}/api/candles`);
  result.wrongPassword = { url: page.url(), error: errorText, sessionCookies: cookiesAfterWrong, apiStatusWithoutSession: api.status() };

  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/sign-in")), page.click("button[type=submit]")]);
  const cookie = (await context.cookies()).find((c) => c.name === "cd_session");
  result.session = cookie ? { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure } : null;

  for (const p of PAGES) {
    const t0 = Date.now();
    const resp = await page.goto(`${base}${p.path}`, { waitUntil: "load" });
    await page.waitForTimeout(600); // charts measure their width once mounted
    const charts = await page.$$eval("[data-chart]", (els) => els.map((el) => ({
      name: el.getAttribute("data-chart"),
      points: Number(el.getAttribute("data-points")),
      drawn: el.querySelectorAll("[data-point]").length,
      markers: el.querySelectorAll("[data-marker]").length,
      empty: el.querySelector("[data-empty]") !== null,
    })));
    // every panel: its title, its note (units, champion, probability of profit), table rows, KPI tiles
    const panels = await page.$$eval("[data-panel]", (els) => els.map((el) => ({
      title: el.getAttribute("data-panel"),
      note: el.querySelector(".note")?.textContent ?? null,
      rows: el.querySelectorAll("tbody tr").length,
      liveRows: el.querySelectorAll("tbody tr[data-live]").length,
      kpis: el.querySelectorAll(".kpi").length,
    })));
    const lcp = await page.evaluate(() => window.__lcp);
    const shot = path.join(out, `${p.name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    result.pages[p.name] = { status: resp?.status() ?? 0, csp: resp?.headers()["content-security-policy"] ?? null, charts, panels, lcpMs: Math.round(lcp), loadMs: Date.now() - t0, screenshot: shot,
      emptyPanels: await page.$$eval("[data-empty]", (els) => els.length) };
  }

  if (args.ticker) {
    await page.goto(`${base}/`, { waitUntil: "load" });
    const first = await page.waitForFunction(() => {
      const q = [...document.querySelectorAll("[data-ticker]")].find((e) => Number(e.getAttribute("data-ticks")) >= 1);
      return q ? { key: q.getAttribute("data-ticker"), last: q.getAttribute("data-last"), ticks: Number(q.getAttribute("data-ticks")) } : null;
    }, null, { timeout: Number(args.tickerTimeout ?? 30000) }).then((h) => h.jsonValue()).catch(() => null);
    let moved = null;
    if (first) {
      moved = await page.waitForFunction((k) => {
        const q = document.querySelector(`[data-ticker="${k.key}"]`);
        return q && Number(q.getAttribute("data-ticks")) > k.ticks ? { last: q.getAttribute("data-last"), ticks: Number(q.getAttribute("data-ticks")) } : null;
      }, first, { timeout: 30000 }).then((h) => h.jsonValue()).catch(() => null);
    }
    const state = await page.getAttribute("[data-stream-state]", "data-stream-state").catch(() => null);
    await page.screenshot({ path: path.join(out, "overview-live.png"), fullPage: true });
    result.ticker = { state, first, moved };
  }

  if (args["live-alert"]) {
    await page.goto(`${base}/alerts`, { waitUntil: "load" });
    const state = await page.waitForFunction(() => document.querySelector("[data-stream-state=connected]") !== null, null, { timeout: 30000 })
      .then(() => "connected").catch(() => page.getAttribute("[data-stream-state]", "data-stream-state").catch(() => null));
    const before = await page.$$eval("tbody tr[data-live]", (els) => els.length);
    console.log("READY live-alert");
    const row = await page.waitForFunction(() => document.querySelector("tbody tr[data-live]")?.textContent ?? null, null, { timeout: 30000 })
      .then((h) => h.jsonValue()).catch(() => null);
    await page.screenshot({ path: path.join(out, "alerts-live.png"), fullPage: true });
    result.liveAlert = { state, before, row };
  }

  // sign-out ends the session
  await page.goto(`${base}/`);
  await Promise.all([page.waitForURL(/\/sign-in/), page.click(".signout button")]);
  const after = await page.request.get(`${base}/api/candles`);
  result.signOut = { url: page.url(), apiStatus: after.status() };
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
