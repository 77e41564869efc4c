// The dashboard end to end in headless Chromium against a real `balance-alert serve` (with
// WEB_API_KEY) on the fake providers. Started by tests/browser/run.sh, which passes BASE_URL,
// API_KEY, CONFIG_PATH, SHOTS_DIR and PLAYWRIGHT_DIR.
import { readFileSync } from "node:fs";
import { launch, check, failed, shot } from "./lib.mjs";

const BASE = process.env.BASE_URL;
const KEY = process.env.API_KEY;
const config = () => JSON.parse(readFileSync(process.env.CONFIG_PATH, "utf8"));
const T = { timeout: 15000 };

const ctx = await launch("zh-CN");
const page = ctx.pages()[0] || (await ctx.newPage());
const consoleErrors = [];
// The 401s (no key, a wrong key) and the 429 (check inside the cooldown) are this test's own
// doing; the browser logs each refused request as an error.
const expected = /Failed to load resource: the server responded with a status of (401|429)\b/;
page.on("console", (m) => m.type() === "error" && !expected.test(m.text()) && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));
// Every /api/credits answer: the app sends If-None-Match with the ETag it holds.
const creditStatuses = [];
page.on("response", (r) => new URL(r.url()).pathname === "/api/credits" && creditStatuses.push(r.status()));

try {
  // 1. No key yet: the API answers 401 and the app takes the reader to Settings, saying why.
  await page.goto(BASE + "/");
  await page.waitForURL(/\/settings$/, T);
  const notice = await page.locator("#notice").textContent(T);
  check(notice.includes("401"), "a missing API key leads to Settings with the 401 message", notice);
  check((await page.locator("html").getAttribute("lang")) === "zh", "the page starts in Chinese (browser locale zh-CN)");

  // 2. A wrong key is refused with the same message.
  await page.fill("#api-key", "not-the-key");
  await page.click("#settings-save");
  const refused = await page.locator("#settings-status.error").textContent(T);
  check(refused.includes("401"), "a wrong API key shows the settings message", refused);
  await shot(page, "settings-wrong-key");

  // 3. The right key works and is kept in local storage.
  await page.fill("#api-key", KEY);
  await page.click("#settings-save");
  await page.locator("#settings-status.ok-note", { hasText: "5" }).waitFor(T);
  check(await page.evaluate(() => localStorage.getItem("balance-alert.api_key")) === KEY, "the API key is kept in local storage");

  // 4. Overview: every project with its state.
  await page.click('header nav a[href="/"]');
  await page.locator("#projects tbody tr.row").nth(4).waitFor(T);
  const states = await page.$$eval("#projects tbody tr.row", (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.project, [...r.classList].find((c) => c.startsWith("s-"))])));
  const want = { "OpenRouter-Main": "s-ok", "DeepSeek-CN": "s-low", Moonshot: "s-ok", SiliconFlow: "s-ok", "OpenRouter-Revoked": "s-failing" };
  check(JSON.stringify(states, Object.keys(want)) === JSON.stringify(want, Object.keys(want)),
    "the overview lists the five projects with the right states", JSON.stringify(states));
  const deepseekValue = await page.locator('tr[data-project="DeepSeek-CN"] td.c-value').textContent();
  check(deepseekValue.includes("35.50"), "amounts are shown with their currency", deepseekValue);
  // Search narrows the rows as one types.
  await page.fill("#search", "moon");
  await page.waitForFunction(() => document.querySelectorAll("#projects tbody tr.row").length === 1, null, T);
  check(true, "search filters the rows");
  await page.fill("#search", "");
  await page.locator("#projects tbody tr.row").nth(4).waitFor(T);
  await page.selectOption("#filter-state", "low");
  await page.waitForFunction(() => document.querySelectorAll("#projects tbody tr.row").length === 1, null, T);
  check(true, "the state filter keeps only the LOW project");
  await page.selectOption("#filter-state", "");
  await page.locator("#projects tbody tr.row").nth(4).waitFor(T);
  await shot(page, "overview");

  // "Check now" twice: the second is inside the cooldown and says so.
  await page.click("#check-now");
  await page.locator("#message").waitFor(T);
  await page.waitForFunction(() => !document.querySelector("#check-now").disabled, null, T);
  await page.click("#check-now");
  const cooled = await page.locator("#message.error").textContent(T);
  check(/\d+/.test(cooled) && cooled.includes("秒"), "a refused check shows the cooldown message", cooled);

  // 5. Project detail: the chart, then a threshold edit that lands in the config file.
  await page.click('tr[data-project="DeepSeek-CN"] td.c-name a');
  await page.waitForURL(/\/projects\/[0-9a-f]{32}$/, T);
  await page.locator("figure.chart svg circle.last").waitFor(T);
  const name = await page.locator("#project-name").textContent();
  check(name === "DeepSeek-CN", "opening a project shows its page", name);
  const threshold = await page.locator("figure.chart svg path.threshold").count();
  check(threshold === 1, "the chart draws the threshold line");
  await page.click("#range-30");
  await page.locator("#range-30[aria-pressed=true]").waitFor(T);
  await page.locator("figure.chart svg circle.last").waitFor(T);
  const points = (await page.locator("figure.chart svg path.balance").getAttribute("d")).split("L").length;
  check(points > 100, "the 30-day chart draws the seeded readings", String(points));
  check(await page.locator("figure.chart svg path.forecast").count() === 1, "the chart draws the forecast line to zero");
  await shot(page, "project-chart");
  await page.fill("#threshold-input", "30");
  await page.click("#threshold-save");
  await page.locator("#message.ok-note").waitFor(T);
  const saved = config().projects.find((p) => p.name === "DeepSeek-CN");
  check(saved.threshold === 30, "a changed threshold is in the config file", JSON.stringify(saved.threshold));
  await page.reload();
  await page.locator("#threshold-input").waitFor(T);
  check((await page.locator("#threshold-input").inputValue()) === "30.00" || (await page.locator("#threshold-input").inputValue()) === "30",
    "the changed threshold persists across a reload (deep link served by index.html)");

  // 6. Subscriptions: a form problem names its field; add, then delete.
  await page.click('header nav a[href="/subscriptions"]');
  await page.locator("#subscriptions tbody tr").nth(2).waitFor(T);
  await page.fill("#sub-name", "");
  await page.fill("#sub-renewal_day", "40");
  await page.click("#sub-submit");
  const nameError = await page.locator("#sub-name-error").textContent(T);
  const dayError = await page.locator("#sub-renewal_day-error").textContent(T);
  check(nameError.includes("名称") && dayError.includes("续费日"), "form problems name their fields", `${nameError} | ${dayError}`);
  await page.fill("#sub-name", "Browser Test Sub");
  await page.fill("#sub-renewal_day", "15");
  await page.fill("#sub-amount", "12.5");
  await page.fill("#sub-currency", "EUR");
  await page.click("#sub-submit");
  await page.locator('tr[data-sub="Browser Test Sub"]').waitFor(T);
  const added = config().subscriptions.find((s) => s.name === "Browser Test Sub");
  check(added && added.renewal_day === 15 && added.currency === "EUR", "an added subscription is listed and in the config file", JSON.stringify(added));
  await shot(page, "subscriptions");
  // Edit one in place, mark another renewed: both land in the config file.
  await page.click('tr[data-sub="Cloud backup"] button.edit');
  check((await page.inputValue("#sub-name")) === "Cloud backup", "edit fills the form from the subscription");
  await page.fill("#sub-amount", "60");
  await page.click("#sub-submit");
  await page.locator('tr[data-sub="Cloud backup"] td.num', { hasText: "60.00" }).waitFor(T);
  check(config().subscriptions.find((s) => s.name === "Cloud backup").amount === 60, "an edited subscription is saved to the config file");
  // A payment counts for the next renewal when it falls in the later half of the cycle: renew
  // the weekly one tomorrow (ISO weekday), so marking it renewed today pays that renewal
  // whatever weekday the suite runs on.
  const tomorrow = ((new Date().getUTCDay() + 1) % 7) || 7;
  await page.click('tr[data-sub="Weekly report tool"] button.edit');
  await page.fill("#sub-renewal_day", String(tomorrow));
  await page.click("#sub-submit");
  const weekly = () => config().subscriptions.find((s) => s.name === "Weekly report tool");
  for (let i = 0; i < 150 && weekly().renewal_day !== tomorrow; i++) await page.waitForTimeout(100);
  await page.click('tr[data-sub="Weekly report tool"] button.renew');
  await page.locator('tr[data-sub="Weekly report tool"] .badge.r-renewed').waitFor(T);
  check(!!config().subscriptions.find((s) => s.name === "Weekly report tool").last_renewed_date, "mark renewed sets last_renewed_date in the config file");
  await page.click('tr[data-sub="Browser Test Sub"] button.delete');
  await page.click('tr[data-sub="Browser Test Sub"] button.confirm-delete');
  await page.locator('tr[data-sub="Browser Test Sub"]').waitFor({ state: "detached", ...T });
  check(!config().subscriptions.some((s) => s.name === "Browser Test Sub"), "a deleted subscription is gone from the list and the config file");

  // 7. Alerts: the history with its filters.
  await page.click('header nav a[href="/alerts"]');
  await page.locator("#alerts tbody tr").first().waitFor(T);
  const alertRows = await page.locator("#alerts tbody tr").count();
  check(alertRows >= 1, "the alert history lists alerts", String(alertRows));
  await page.selectOption("#alerts-kind", "renewal");
  await page.waitForFunction(() => [...document.querySelectorAll("#alerts tbody tr td:nth-child(3)")].every((td) => td.textContent === "续费"), null, T);
  check(true, "the alert type filter keeps only renewals");
  await page.selectOption("#alerts-kind", "");
  await shot(page, "alerts");

  // 8. Switching to English changes the texts (and is remembered).
  const before = await page.locator('header nav a[href="/"]').textContent();
  await page.click("#lang-toggle");
  await page.locator('header nav a[href="/"]', { hasText: "Overview" }).waitFor(T);
  const heading = await page.locator("main h1").textContent();
  check(before === "总览" && heading === "Alerts" && (await page.locator("html").getAttribute("lang")) === "en",
    "switching to English changes the texts", `${before} → ${heading}`);
  await page.click('header nav a[href="/"]');
  await page.locator("#projects tbody tr.row").nth(4).waitFor(T);
  const stateText = await page.locator('tr[data-project="DeepSeek-CN"] .badge').textContent();
  check(["Low", "OK"].includes(stateText), "state texts are English too", stateText);
  check(creditStatuses.includes(304), "an unchanged /api/credits is answered 304 (If-None-Match)", creditStatuses.join(","));
  await shot(page, "overview-en");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "overview-phone");

  check(consoleErrors.length === 0, "no errors in the browser console", consoleErrors.join(" | "));
} catch (e) {
  check(false, "the browser test ran to the end", String(e && e.stack || e));
  try { await shot(page, "failure"); } catch {}
} finally {
  await ctx.close();
}
process.exit(failed() ? 1 : 0);
