// Times the overview with many projects (BASE_URL serves them, keyless): the first render
// (navigation start → the first page of rows in the DOM, wasm load and both API calls
// included) and filter keystrokes (input event → the table's DOM updated and laid out).
import { launch, check, failed, shot } from "./lib.mjs";

const BASE = process.env.BASE_URL;
const EXPECT = Number(process.env.PROJECTS || 1000);
const T = { timeout: 30000 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ctx = await launch("en-US");
const page = ctx.pages()[0] || (await ctx.newPage());
// Records when the first rows appear, measured from navigation start.
await page.addInitScript(() => {
  new MutationObserver((_, obs) => {
    if (document.querySelector("#projects tbody tr.row")) {
      window.__firstRows = performance.now();
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
});
const first = [];
try {
  for (let i = 0; i < 4; i++) {
    await page.goto(BASE + "/");
    await page.waitForFunction(() => window.__firstRows !== undefined, null, T);
    if (i > 0) first.push(await page.evaluate(() => window.__firstRows)); // run 0 warms caches
  }
  const total = await page.locator("#showing").textContent();
  check(total.includes(String(EXPECT)), `the overview holds ${EXPECT} projects`, total);
  // Keystrokes: typing and deleting in the search box; every step changes the matching rows
  // (project names are proj-0000 … proj-0999), so every step re-renders the table.
  const times = await page.evaluate(async () => {
    const input = document.querySelector("#search");
    const tbody = () => document.querySelector("#projects tbody");
    const out = [];
    for (const value of ["9", "99", "999", "99", "9", "", "1", "12", "123", "12", "1", ""]) {
      const changed = new Promise((resolve) => {
        const obs = new MutationObserver(() => { obs.disconnect(); resolve(); });
        obs.observe(document.querySelector("#projects"), { childList: true, subtree: true, characterData: true });
        setTimeout(() => { obs.disconnect(); resolve(); }, 2000);
      });
      const t0 = performance.now();
      input.value = value;
      input.dispatchEvent(new InputEvent("input", { bubbles: true }));
      await changed;
      tbody().getBoundingClientRect(); // layout included
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 30));
    }
    return out;
  });
  const narrowed = await page.locator("#projects tbody tr.row").count();
  check(narrowed === 50, "the cleared search shows a full page of rows again", String(narrowed));
  await shot(page, "overview-1000");
  const f = median(first), k = median(times), kmax = Math.max(...times);
  console.log(`first render (median of ${first.length}): ${f.toFixed(0)} ms  [${first.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`filter keystroke (median of ${times.length}): ${k.toFixed(1)} ms, max ${kmax.toFixed(1)} ms`);
  console.log(`BENCH first_render_ms=${f.toFixed(0)} keystroke_median_ms=${k.toFixed(1)} keystroke_max_ms=${kmax.toFixed(1)}`);
  check(f < 1000, "first render under 1 s", `${f.toFixed(0)} ms`);
  check(k < 50, "a filter keystroke under 50 ms (median)", `${k.toFixed(1)} ms`);
} catch (e) {
  check(false, "the benchmark ran to the end", String(e && e.stack || e));
} finally {
  await ctx.close();
}
process.exit(failed() ? 1 : 0);
